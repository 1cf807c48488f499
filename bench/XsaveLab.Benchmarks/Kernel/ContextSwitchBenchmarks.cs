using BenchmarkDotNet.Attributes;

namespace XsaveLab.Benchmarks.Kernel;

/// <summary>The kernel model's context switch (switch_fpu save + deferred restore on return to user) between
/// two tasks on one CPU, as the simulator drives it. Must not allocate.</summary>
[MemoryDiagnoser]
public class ContextSwitchBenchmarks
{
    private LinuxKernel _k = null!;
    private KernelTask _a = null!, _b = null!;
    private byte[] _ymm = null!;

    [Params("spr", "zen4-genoa")]
    public string Cpu { get; set; } = "spr";

    [Params("6.17", "case3")]
    public string Variant { get; set; } = "6.17";

    [GlobalSetup]
    public void Setup()
    {
        _k = new LinuxKernel(FpuSystem.Boot(CpuCatalog.Get(Cpu), KernelVariants.Get(Variant)), 1);
        _a = _k.SpawnProcess("a");
        _b = _k.SpawnProcess("b");
        _ymm = new byte[_k.System.FeatureSize(2)];
        new Random(1).NextBytes(_ymm);
        _k.Schedule(0, _a);
        _k.UseComponent(_a, 2, _ymm);
        _k.Schedule(0, _b);
        _k.UseComponent(_b, 2, _ymm);
    }

    /// <summary>Two switches (a round trip of will-it-scale context_switch1), each task touching AVX.</summary>
    [Benchmark]
    public void RoundTrip()
    {
        _k.Schedule(0, _a);
        _k.UseComponent(_a, 2, _ymm);
        _k.Schedule(0, _b);
        _k.UseComponent(_b, 2, _ymm);
    }
}
