using XsaveLab.Arch.Machine;
using XsaveLab.Host.Native;
using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>Every probe puts the runtime's register state and XINUSE back exactly.</summary>
public class NativeStateRestoreTests
{
    private static void AssertRestored(NativeXsave x, NativeProbeResult r, string what)
    {
        // Both are XSAVE64 with RFBM all ones of the live state: entry before anything, exit after the restore.
        ByteAssert.Equal(x.EntryState[..x.StandardSize], x.ExitState[..x.StandardSize], what);
        if (x.HasXgetbv1)
            Assert.True(r.Xgetbv1AtEntry == r.Xgetbv1AtExit, $"{what}: XGETBV(1) 0x{r.Xgetbv1AtEntry:X} at entry, 0x{r.Xgetbv1AtExit:X} at exit");
    }

    [SkippableFact]
    public void EveryProbeAndLoopRestoresTheLiveStateByteForByte()
    {
        Skip.IfNot(NativeXsave.IsSupported, NativeXsave.UnsupportedReason);
        using var x = new NativeXsave { CaptureExitState = true };
        var cpu = HostCpuidProfile.Read();
        var image = Known(x, cpu, 11);
        var a = Filled(x.AreaSize);
        var b = Filled(x.AreaSize);
        foreach (var kind in Enum.GetValues<SaveInstruction>().Where(x.Supports))
        {
            AssertRestored(x, x.Probe(kind, image, x.Xcr0, x.Xcr0, a), $"Probe {kind}");
            foreach (var kind2 in Enum.GetValues<SaveInstruction>().Where(x.Supports))
                AssertRestored(x, x.ProbeRoundTrip(kind, image, x.Xcr0, x.Xcr0, a, x.RestoreMaskWithoutPkru, kind2, x.Xcr0, b), $"ProbeRoundTrip {kind} then {kind2}");
            AssertRestored(x, x.RunPairs(kind, x.Xcr0, 100, image), $"RunPairs {kind}");
            AssertRestored(x, x.RunSaves(kind, x.Xcr0, 100, image), $"RunSaves {kind}");
        }
        AssertRestored(x, x.RunRestores(x.Xcr0, 100, image), "RunRestores");
        if (x.HasXsaveopt)
            AssertRestored(x, x.ProbeXsaveoptTwice(image, x.Xcr0, x.Xcr0, Filled(x.AreaSize), a, b), "ProbeXsaveoptTwice");
    }

    [SkippableFact]
    public void TheThreadsXinUseIsUnchangedAfterManyProbes()
    {
        Skip.IfNot(NativeXsave.IsSupported, NativeXsave.UnsupportedReason);
        using var x = new NativeXsave();
        Skip.IfNot(x.HasXgetbv1, "XGETBV1 is not enumerated");
        var image = Known(x, HostCpuidProfile.Read(), 12);
        var output = Filled(x.AreaSize);
        var first = x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, output);
        for (int i = 0; i < 1000; i++)
            x.Probe((SaveInstruction)(i % 3) is var k && x.Supports(k) ? k : SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, output);
        var last = x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, output);
        // The image makes every component in use inside the probe; outside it the runtime's own bits rule.
        Assert.Equal($"0x{x.RestorableComponents:X}", $"0x{last.Xgetbv1AfterRestore:X}");
        Assert.Equal($"0x{last.Xgetbv1AtEntry:X}", $"0x{last.Xgetbv1AtExit:X}");
        Assert.Equal($"0x{first.Xgetbv1AtEntry:X}", $"0x{first.Xgetbv1AtExit:X}");
    }
}
