using BenchmarkDotNet.Attributes;

namespace XsaveLab.Benchmarks.Sim;

/// <summary>The workload simulator on one core: context_switch1 switches with real XSAVES/XRSTORS on the
/// instruction model (target ≥ 2 million per second), and the cost of creating 100 000 simulated tasks
/// (target ≤ task fpstate size + 512 bytes each; see the allocated-bytes column / 100 000).</summary>
[MemoryDiagnoser]
public class SimulatorBenchmarks
{
    private const int SwitchesPerInvoke = 100_000;
    private FpuSystem _sys = null!;
    private Simulator _sim = null!;

    [Params("zen5-turin", "spr")]
    public string Cpu { get; set; } = "zen5-turin";

    [Params("6.16", "6.17", "case3")]
    public string Variant { get; set; } = "6.17";

    [GlobalSetup]
    public void Setup()
    {
        _sys = FpuSystem.Boot(CpuCatalog.Get(Cpu), KernelVariants.Get(Variant));
        _sim = new Simulator(_sys, new WorkloadSpec { PingPongPairs = 1 });
        _sim.Run(10_000);
    }

    /// <summary>One operation = one simulated context switch (save + restore on real buffers).</summary>
    [Benchmark(OperationsPerInvoke = SwitchesPerInvoke)]
    public long ContextSwitch1() => _sim.Run(SwitchesPerInvoke).Switches;

    /// <summary>100 000 tasks (one ping-pong pair, the rest sleeping): allocated bytes / 100 000 = bytes per task.</summary>
    [Benchmark]
    public SimMemory Create100kTasks() => new Simulator(_sys, new WorkloadSpec { PingPongPairs = 1, IdleTasks = 99_998 }).Memory;
}
