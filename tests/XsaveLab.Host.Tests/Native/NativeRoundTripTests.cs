using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>An image with known register contents goes through XRSTOR and back out through each save
/// instruction; the expected area is built from the layout model (<see cref="XStateLayout"/>) and the
/// written/untouched rules, starting from the fill.</summary>
public class NativeRoundTripTests
{
    /// <summary>What a save of the (fully in-use) <paramref name="image"/> with RFBM = XCR0 must leave
    /// in an area pre-filled with <see cref="Fill"/>.</summary>
    internal static byte[] ExpectedFullSave(NativeXsave x, CpuProfile cpu, byte[] image, SaveInstruction kind)
    {
        bool compacted = kind == SaveInstruction.Xsavec;
        var layout = compacted ? XStateLayout.CompactedForm(cpu, x.Xcr0) : XStateLayout.Standard(cpu, x.Xcr0);
        var exp = Filled(x.AreaSize);
        ulong loaded = x.RestorableComponents;
        foreach (int i in Bits(x.Xcr0))
        {
            int dst = i < 2 ? 0 : layout.OffsetOf(i) - cpu.Component(i)!.Value.StandardOffset!.Value;
            foreach (var (off, len) in StandardRanges(cpu, i))
            {
                if ((loaded >> i & 1) != 0)
                    image.AsSpan(off, len).CopyTo(exp.AsSpan(off + dst));
                else if (kind == SaveInstruction.Xsave)
                    exp.AsSpan(off + dst, len).Clear(); // initialised; XSAVE writes its initial value
            }
        }
        image.AsSpan(24, 4).CopyTo(exp.AsSpan(24));
        BinaryPrimitives.WriteUInt32LittleEndian(exp.AsSpan(28), x.MxcsrMask);
        ulong fillBv = BinaryPrimitives.ReadUInt64LittleEndian(exp.AsSpan(Header));
        if (compacted)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(exp.AsSpan(Header), loaded);
            BinaryPrimitives.WriteUInt64LittleEndian(exp.AsSpan(Header + 8), x.Xcr0 | 1UL << 63);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(exp.AsSpan(Header), (fillBv & ~x.Xcr0) | loaded);
        }
        return exp;
    }

    [SkippableTheory]
    [MemberData(nameof(NativeHarness.SaveInstructions), MemberType = typeof(NativeHarness))]
    public void KnownImageRoundTripsByteForByte(SaveInstruction kind)
    {
        using var x = NativeHarness.Open(kind);
        var cpu = HostCpuidProfile.Read();
        var image = Known(x, cpu, 42);
        var output = Filled(x.AreaSize);
        // Restore everything, PKRU included: the image carries the live PKRU value.
        var r = x.Probe(kind, image, x.Xcr0, x.Xcr0, output);
        ByteAssert.Equal(ExpectedFullSave(x, cpu, image, kind), output, $"{kind} after XRSTOR of the known image");
        if (x.HasXgetbv1)
        {
            Assert.Equal($"0x{x.RestorableComponents:X}", $"0x{r.Xgetbv1AfterRestore:X}"); // every loaded component holds non-zero data
            Assert.Null(LiveState.XinUseDifference(x, x.EntryState, r));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(NativeHarness.SaveInstructions), MemberType = typeof(NativeHarness))]
    public void SavedImageRestoresToTheSameRegisterState(SaveInstruction kind)
    {
        using var x = NativeHarness.Open(kind);
        var cpu = HostCpuidProfile.Read();
        var image = Known(x, cpu, 43);
        var first = Filled(x.AreaSize);
        var second = Filled(x.AreaSize);
        // XRSTOR image; <kind> → first; XRSTOR first (no PKRU); XSAVE everything → second.
        x.ProbeRoundTrip(kind, image, x.Xcr0, x.Xcr0, first, x.RestoreMaskWithoutPkru, SaveInstruction.Xsave, x.Xcr0, second);
        var exp = ExpectedFullSave(x, cpu, image, SaveInstruction.Xsave);
        ByteAssert.Equal(exp, second, $"XSAVE after XRSTOR of the {kind} image");
    }

    [SkippableFact]
    public void CompactedOffsetsOfTheHarnessMatchTheLayoutModel()
    {
        using var x = NativeHarness.Open();
        var cpu = HostCpuidProfile.Read();
        var rng = new Random(5);
        for (int n = 0; n < 200; n++)
        {
            ulong comp = x.Xcr0 & (ulong)rng.NextInt64();
            var layout = XStateLayout.CompactedForm(cpu, comp);
            foreach (int i in Bits(x.Xcr0))
                if (i >= 2)
                    Assert.Equal(layout.OffsetOf(i), x.CompactedOffsetOf(comp | 1UL << 63, i));
        }
    }
}
