using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>Images XRSTOR would fault on (a #GP kills the process) are refused before any native code runs.</summary>
public class NativeGuardTests
{
    private static byte[] ImageFor(NativeXsave x) => Known(x, HostCpuidProfile.Read(), 41);

    private static void AssertRefused(NativeXsave x, byte[] image, ulong mask, string fragment)
    {
        var problem = x.CheckRestorable(image, mask);
        Assert.NotNull(problem);
        Assert.Contains(fragment, problem);
        var e = Assert.Throws<ArgumentException>(() => x.Probe(SaveInstruction.Xsave, image, mask, x.Xcr0, new byte[x.AreaSize]));
        Assert.Equal("image", e.ParamName);
        Assert.Throws<ArgumentException>(() => x.RunRestores(mask, 1, image));
    }

    [SkippableFact]
    public void ValidImageIsAccepted()
    {
        using var x = NativeHarness.Open();
        var image = ImageFor(x);
        Assert.Null(x.CheckRestorable(image, x.Xcr0));
        // Reserved header bytes are the harness's to zero, not a reason to refuse.
        image.AsSpan(528, 48).Fill(0xEE);
        Assert.Null(x.CheckRestorable(image, x.Xcr0));
        x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, new byte[x.AreaSize]);
    }

    [SkippableFact]
    public void XstateBvOutsideXcr0IsRefused()
    {
        using var x = NativeHarness.Open();
        var image = ImageFor(x);
        int bit = Enumerable.Range(2, 60).First(i => (x.Xcr0 >> i & 1) == 0);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header), x.Xcr0 | 1UL << bit);
        AssertRefused(x, image, x.Xcr0, "outside XCR0");
    }

    [SkippableFact]
    public void StandardFormWithNonZeroXcompBvIsRefused()
    {
        using var x = NativeHarness.Open();
        var image = ImageFor(x);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header + 8), 3);
        AssertRefused(x, image, x.Xcr0, "XCOMP_BV");
    }

    [SkippableFact]
    public void CompactedFormRulesAreChecked()
    {
        using var x = NativeHarness.Open();
        var image = ImageFor(x);
        Skip.IfNot(x.HasXsavec, "XSAVEC is not enumerated");
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header), 7);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header + 8), 1UL << 63 | 3);
        AssertRefused(x, image, x.Xcr0, "outside XCOMP_BV");
        int bit = Enumerable.Range(2, 60).First(i => (x.Xcr0 >> i & 1) == 0);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header), 3);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header + 8), 1UL << 63 | 3 | 1UL << bit);
        AssertRefused(x, image, x.Xcr0, "outside XCR0");
    }

    [SkippableFact]
    public void MxcsrWithReservedBitsIsRefusedOnlyWhenItWouldBeLoaded()
    {
        using var x = NativeHarness.Open();
        var image = ImageFor(x);
        uint bad = ~x.MxcsrMask;
        Assert.NotEqual(0u, bad);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 0x1F80 | bad);
        AssertRefused(x, image, x.Xcr0, "MXCSR");
        Assert.Null(x.CheckRestorable(image, 1)); // x87 only: MXCSR is not loaded
    }

    [SkippableFact]
    public void PkruOtherThanTheLiveValueIsRefused()
    {
        using var x = NativeHarness.Open();
        var image = ImageFor(x);
        Skip.If((x.Xcr0 & PkruBit) == 0, $"PKRU is not enabled in XCR0 (0x{x.Xcr0:X})");
        int off = x.StandardOffsetOf(9);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(off), x.ReadPkru() ^ 3); // would deny key 0
        AssertRefused(x, image, x.Xcr0, "PKRU");
        Assert.Null(x.CheckRestorable(image, x.RestoreMaskWithoutPkru));
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header), x.Xcr0 & ~PkruBit); // init PKRU = 0
        if (x.ReadPkru() != 0)
            AssertRefused(x, image, x.Xcr0, "PKRU");
    }

    [SkippableFact]
    public void AmxTileDataIsNeverLoaded()
    {
        using var x = NativeHarness.Open();
        var image = ImageFor(x);
        Skip.If((x.Xcr0 & 3UL << 17) == 0, $"AMX tile state is not enabled in XCR0 (0x{x.Xcr0:X})");
        var big = new byte[x.AreaSize];
        image.CopyTo(big, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(big.AsSpan(Header), x.Xcr0);
        AssertRefused(x, big, x.Xcr0, "AMX");
        BinaryPrimitives.WriteUInt64LittleEndian(big.AsSpan(Header), x.Xcr0 & ~(3UL << 17)); // as init: fine
        Assert.Null(x.CheckRestorable(big, x.Xcr0 & ~PkruBit));
    }

    [SkippableFact]
    public void SecondRestoreMaskMayNotIncludePkru()
    {
        using var x = NativeHarness.Open();
        var image = ImageFor(x);
        Skip.If((x.Xcr0 & PkruBit) == 0, $"PKRU is not enabled in XCR0 (0x{x.Xcr0:X})");
        var a = new byte[x.AreaSize];
        Assert.Throws<ArgumentException>(() => x.ProbeRoundTrip(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, a, x.Xcr0, SaveInstruction.Xsave, x.Xcr0, a));
    }

    [SkippableFact]
    public void MisuseIsReportedAsExceptions()
    {
        var x = NativeHarness.Open();
        var image = ImageFor(x);
        Assert.Throws<ArgumentException>(() => x.Probe(SaveInstruction.Xsave, image.AsSpan(0, 100), x.Xcr0, x.Xcr0, new byte[x.AreaSize]));
        Assert.Throws<ArgumentException>(() => x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, new byte[x.AreaSize + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.RunPairs(SaveInstruction.Xsave, x.Xcr0, -1, image));
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => x.Xgetbv(0));
        Assert.Throws<ObjectDisposedException>(() => x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, new byte[16]));
        x.Dispose();
    }
}
