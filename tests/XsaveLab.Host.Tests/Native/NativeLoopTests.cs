using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>The timing loops run and leave the expected in-use state; the time is logged, never asserted
/// (speed is measured with BenchmarkDotNet).</summary>
public class NativeLoopTests(ITestOutputHelper log)
{
    [SkippableFact]
    public void LoopsRunMakeTheImageInUseAndDoNotAllocate()
    {
        using var x = NativeHarness.Open();
        var image = Known(x, HostCpuidProfile.Read(), 51);
        const long count = 20_000;
        foreach (var kind in Enum.GetValues<SaveInstruction>().Where(x.Supports))
        {
            x.RunPairs(kind, x.Xcr0, 10, image); // warm-up
            long before = GC.GetAllocatedBytesForCurrentThread();
            long t0 = Stopwatch.GetTimestamp();
            var r = x.RunPairs(kind, x.Xcr0, count, image);
            var pairs = Stopwatch.GetElapsedTime(t0);
            t0 = Stopwatch.GetTimestamp();
            x.RunSaves(kind, x.Xcr0, count, image);
            var saves = Stopwatch.GetElapsedTime(t0);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);
            if (x.HasXgetbv1)
                Assert.Equal($"0x{x.RestorableComponents:X}", $"0x{r.Xgetbv1AfterRestore:X}");
            log.WriteLine($"{kind}+XRSTOR64: {pairs.TotalNanoseconds / count:F1} ns/pair; {kind} alone: {saves.TotalNanoseconds / count:F1} ns");
        }
        long t1 = Stopwatch.GetTimestamp();
        var rr = x.RunRestores(x.Xcr0, count, image);
        log.WriteLine($"XRSTOR64 alone: {Stopwatch.GetElapsedTime(t1).TotalNanoseconds / count:F1} ns");
        if (x.HasXgetbv1)
            Assert.Equal($"0x{x.RestorableComponents:X}", $"0x{rr.Xgetbv1AfterRestore:X}");
    }

    [SkippableFact]
    public void ProbesDoNotAllocate()
    {
        using var x = NativeHarness.Open();
        var image = Known(x, HostCpuidProfile.Read(), 52);
        var a = new byte[x.AreaSize];
        var b = new byte[x.AreaSize];
        x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, a);
        x.ProbeRoundTrip(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, a, x.RestoreMaskWithoutPkru, SaveInstruction.Xsave, x.Xcr0, b);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < 1000; i++)
            x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, a);
        var probe = Stopwatch.GetElapsedTime(t0);
        for (int i = 0; i < 100; i++)
            x.ProbeRoundTrip(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, a, x.RestoreMaskWithoutPkru, SaveInstruction.Xsave, x.Xcr0, b);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        log.WriteLine($"Probe: {probe.TotalNanoseconds / 1000:F0} ns per call including checks and copies");
    }
}
