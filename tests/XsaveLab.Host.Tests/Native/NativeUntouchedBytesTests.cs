using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>Bytes the save instructions must leave alone (docs/host-interfaces.md items 1, 4, 5, 6).</summary>
public class NativeUntouchedBytesTests
{
    [SkippableTheory]
    [InlineData(SaveInstruction.Xsave)]
    [InlineData(SaveInstruction.Xsaveopt)]
    public void StandardSavesWriteOnlyRfbmBitsOfXstateBvAndNoOtherHeaderByte(SaveInstruction kind)
    {
        using var x = NativeHarness.Open(kind);
        var image = Known(x, HostCpuidProfile.Read(), 1);
        var output = Filled(x.AreaSize);
        const ulong fillBv = 0xA5A5_A5A5_A5A5_A5A5;
        BinaryPrimitives.WriteUInt64LittleEndian(output.AsSpan(Header), fillBv);
        x.Probe(kind, image, x.Xcr0, 3, output); // RFBM = x87 | SSE
        Assert.Equal($"0x{(fillBv & ~3UL) | 3:X}", $"0x{XstateBv(output):X}");
        Assert.True(output.AsSpan(Header + 8, 56).IndexOfAnyExcept(Fill) < 0, "XCOMP_BV or reserved header bytes were written");
        Assert.True(output.AsSpan(416, 96).IndexOfAnyExcept(Fill) < 0, "legacy bytes 416..511 were written");
        Assert.True(output.AsSpan(Extended, x.AreaSize - Extended).IndexOfAnyExcept(Fill) < 0, "a component outside RFBM was written");
    }

    [SkippableFact]
    public void XsavecLeavesHeaderBytes528To575()
    {
        using var x = NativeHarness.Open(h => h.HasXsavec, "XSAVEC is not enumerated");
        var output = Filled(x.AreaSize);
        x.Probe(SaveInstruction.Xsavec, Known(x, HostCpuidProfile.Read(), 2), x.Xcr0, x.Xcr0, output);
        Assert.Equal($"0x{x.Xcr0 | 1UL << 63:X}", $"0x{XcompBv(output):X}");
        Assert.True(output.AsSpan(528, 48).IndexOfAnyExcept(Fill) < 0, "XSAVEC wrote reserved header bytes 528..575");
    }

    [SkippableTheory]
    [InlineData(SaveInstruction.Xsave)]
    [InlineData(SaveInstruction.Xsaveopt)]
    public void StandardSavesWriteMxcsrAndItsMaskOnlyWithSseOrAvx(SaveInstruction kind)
    {
        using var x = NativeHarness.Open(kind);
        var image = Known(x, HostCpuidProfile.Read(), 3); // MXCSR_MASK field 0 in the image
        var output = Filled(x.AreaSize);
        x.Probe(kind, image, x.Xcr0, 1, output); // x87 only
        Assert.True(output.AsSpan(24, 8).IndexOfAnyExcept(Fill) < 0, "MXCSR/MXCSR_MASK written with RFBM = x87");
        Assert.True(output.AsSpan(Xmm, 256).IndexOfAnyExcept(Fill) < 0, "XMM written with RFBM = x87");

        Skip.If((x.Xcr0 & 4) == 0, "AVX is not enabled in XCR0");
        output = Filled(x.AreaSize);
        x.Probe(kind, image, x.Xcr0, 4, output); // AVX only: MXCSR goes with it, XMM does not
        Assert.Equal(0x1F80u, Mxcsr(output));
        Assert.Equal(x.MxcsrMask, BinaryPrimitives.ReadUInt32LittleEndian(output.AsSpan(28)));
        Assert.NotEqual(0u, x.MxcsrMask);
        Assert.True(output.AsSpan(Xmm, 256).IndexOfAnyExcept(Fill) < 0, "XMM written with RFBM = AVX");
    }

    [SkippableFact]
    public void XsavecOfAnAllInitImageWritesNoLegacyByte()
    {
        using var x = NativeHarness.Open(h => h.HasXsavec, "XSAVEC is not enumerated");
        var cpu = HostCpuidProfile.Read();
        var image = Known(x, cpu, 4);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header), 0); // everything restored as init (MXCSR 1F80H)
        var output = Filled(x.AreaSize);
        // A preemption inside the probe may leave a component reported in use (see NativeRandomStateTests): retry.
        NativeProbeResult r = default;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            output = Filled(x.AreaSize);
            r = x.Probe(SaveInstruction.Xsavec, image, x.RestoreMaskWithoutPkru, x.Xcr0, output);
            if ((XstateBv(output) & x.RestoreMaskWithoutPkru) == 0)
                break;
        }
        ulong bv = XstateBv(output);
        Assert.Equal(0UL, bv & x.RestoreMaskWithoutPkru);
        if (x.HasXgetbv1)
            Assert.Equal($"0x{bv:X}", $"0x{r.Xgetbv1AfterRestore:X}");
        Assert.True(output.AsSpan(0, Header).IndexOfAnyExcept(Fill) < 0, "XSAVEC wrote the legacy region although x87 and SSE were in init state");
        int pkru = (bv & PkruBit) != 0 ? XStateLayout.CompactedForm(cpu, x.Xcr0).OffsetOf(9) : -1;
        for (int i = Extended; i < x.AreaSize; i++)
            if (i < pkru || i >= pkru + 4)
                Assert.True(output[i] == Fill, $"XSAVEC wrote byte {i} of a component in init state");
    }

    [SkippableFact]
    public void PkruIsSavedAsFourBytesOfItsEightByteSlot()
    {
        using var x = NativeHarness.Open();
        Skip.If((x.Xcr0 & PkruBit) == 0, $"PKRU is not enabled in XCR0 (0x{x.Xcr0:X})");
        var cpu = HostCpuidProfile.Read();
        var image = Known(x, cpu, 5);
        uint live = x.ReadPkru();
        Assert.Equal(0u, live & 3); // key 0: access and write allowed
        foreach (var kind in Enum.GetValues<SaveInstruction>().Where(x.Supports))
        {
            var output = Filled(x.AreaSize);
            x.Probe(kind, image, x.Xcr0, PkruBit, output);
            int off = kind == SaveInstruction.Xsavec ? XStateLayout.CompactedForm(cpu, PkruBit).OffsetOf(9) : cpu.Component(9)!.Value.StandardOffset!.Value;
            Assert.Equal(8, cpu.Component(9)!.Value.Size);
            if ((XstateBv(output) & PkruBit) != 0 || kind == SaveInstruction.Xsave)
                Assert.Equal(live, BinaryPrimitives.ReadUInt32LittleEndian(output.AsSpan(off)));
            Assert.True(output.AsSpan(off + 4, 4).IndexOfAnyExcept(Fill) < 0, $"{kind} wrote PKRU bytes 4..7");
        }
    }
}
