using BenchmarkDotNet.Attributes;
using XsaveLab.Kvm;
using XsaveLab.Sim.Explore;

namespace XsaveLab.Benchmarks.Explore;

/// <summary>The explorer on one core (docs/explore.md, "Speed"): one operation = one distinct state visited by a
/// full exploration of 6.15 and 6.17 on spr to depth 4 (2 tasks, 2 vCPUs). The ns per operation is the inverse of
/// the states-per-second figure <c>xsavelab bench explore</c> prints (aim: 200,000 states/s, 5,000 ns). Both ways of
/// building successors are measured: deep copies of the frontier (the default) and replays from boot.</summary>
[MemoryDiagnoser]
public class ExploreBenchmarks
{
    private ExploreOptions _options = null!;
    private long _states;

    [Params("6.15", "6.17")]
    public string Variant { get; set; } = "6.17";

    [Params(ExploreMode.Copy, ExploreMode.Replay)]
    public ExploreMode Mode { get; set; } = ExploreMode.Copy;

    [GlobalSetup]
    public void Setup()
    {
        _options = new ExploreOptions(KvmSettings.For(CpuCatalog.Get("spr"), KernelVariants.Get(Variant)), Depth: 4) { Mode = Mode };
        _states = new StateExplorer(_options).Run().States;
    }

    /// <summary>Operations per invoke = the states one exploration visits (fixed for the parameters).</summary>
    [Benchmark]
    public long Explore() => new StateExplorer(_options).Run().States;

    [GlobalCleanup]
    public void Report() => Console.WriteLine($"// {Variant}, {Mode}: {_states} states per exploration (divide the mean by it for ns per state)");
}
