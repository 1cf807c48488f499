using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>XINUSE after XRSTOR of an image whose XSTATE_BV marks components present but whose data equal
/// the initial configuration. Architecturally XINUSE[i] may be 1 or 0 then; what matters for a model is
/// that XGETBV(1), XSAVEC and XSAVEOPT agree on it. The value this processor chose is logged.</summary>
public class NativeXinUseTests(ITestOutputHelper log)
{
    [SkippableFact]
    public void ZeroDataMarkedPresentIsReportedConsistentlyByXgetbv1AndTheSaves()
    {
        using var x = NativeHarness.Open(h => h.HasXgetbv1, "XGETBV1 is not enumerated");
        var image = Known(x, HostCpuidProfile.Read(), 31);
        image.AsSpan(0, Header).Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(image, 0x037F);            // x87 init: FCW 037FH, rest 0
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 0x1F80); // MXCSR init
        image.AsSpan(Extended).Clear();
        ulong present = x.RestorableComponents & ~PkruBit;
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Header), present);

        ulong? observed = null;
        foreach (var kind in new[] { SaveInstruction.Xsavec, SaveInstruction.Xsaveopt }.Where(x.Supports))
        {
            var output = Filled(x.AreaSize);
            NativeProbeResult r = default;
            for (int attempt = 0; attempt < 4; attempt++)
            {
                output = Filled(x.AreaSize);
                r = x.Probe(kind, image, present, x.Xcr0, output);
                // both saves record XINUSE AND RFBM in XSTATE_BV for the restored components
                if ((XstateBv(output) & present) == (r.Xgetbv1AfterRestore & present))
                    break;
            }
            Assert.Equal($"0x{r.Xgetbv1AfterRestore & present:X}", $"0x{XstateBv(output) & present:X}");
            observed ??= r.Xgetbv1AfterRestore & present;
            log.WriteLine($"{kind}: XRSTOR of all-init data with XSTATE_BV=0x{present:X} -> XGETBV(1)=0x{r.Xgetbv1AfterRestore:X}, XSTATE_BV saved 0x{XstateBv(output):X}");
        }
        Assert.NotNull(observed);
    }

    [SkippableFact]
    public void EachComponentWithInitDataIsReportedConsistently()
    {
        using var x = NativeHarness.Open(h => h.HasXgetbv1 && h.HasXsavec, "XGETBV1 or XSAVEC is not enumerated");
        var cpu = HostCpuidProfile.Read();
        var zeroTracked = new List<int>();
        ulong loadable = x.RestorableComponents & ~PkruBit;
        foreach (int i in Bits(loadable))
        {
            var image = Known(x, cpu, 32);
            foreach (var (off, len) in StandardRanges(cpu, i))
                image.AsSpan(off, len).Clear();
            if (i == 0)
                BinaryPrimitives.WriteUInt16LittleEndian(image, 0x037F);
            var output = Filled(x.AreaSize);
            NativeProbeResult r = default;
            for (int attempt = 0; attempt < 4; attempt++)
            {
                output = Filled(x.AreaSize);
                r = x.Probe(SaveInstruction.Xsavec, image, x.RestoreMaskWithoutPkru, x.Xcr0, output);
                if (XstateBv(output) == (r.Xgetbv1AfterRestore & x.Xcr0))
                    break;
            }
            Assert.Equal($"0x{r.Xgetbv1AfterRestore & x.Xcr0:X}", $"0x{XstateBv(output):X}");
            // every other component holds non-zero data and must be in use
            Assert.Equal($"0x{loadable & ~(1UL << i):X}", $"0x{r.Xgetbv1AfterRestore & loadable & ~(1UL << i):X}");
            if ((r.Xgetbv1AfterRestore >> i & 1) == 0)
                zeroTracked.Add(i);
        }
        log.WriteLine($"components reported not in use after XRSTOR of init data with XSTATE_BV[i]=1: [{string.Join(",", zeroTracked)}]");
    }
}
