using XsaveLab.Kvm;
using XsaveLab.Sim.Explore;

namespace XsaveLab.Sim.Tests.Explore;

/// <summary>The copying explorer (<see cref="ExploreMode.Copy"/>) gives exactly the answers of the replaying one
/// (<see cref="ExploreMode.Replay"/>): the same states per depth, transitions, violations, shortest traces and scripts,
/// with every frontier state kept in memory and with none kept (each rebuilt from a copy of the booted system).</summary>
public class ExploreModeEquivalenceTests(ITestOutputHelper output)
{
    private static ExploreResult Explore(KernelVariant v, int depth, ExploreMode mode, long memoryLimit = ExploreOptions.DefaultMemoryLimit) =>
        new StateExplorer(new ExploreOptions(KvmSettings.For(CpuCatalog.Get("spr"), v), depth) { Mode = mode, MemoryLimit = memoryLimit }).Run();

    public static TheoryData<string, int> Cases => new() { { "6.15", 4 }, { "6.17", 4 }, { "6.16", 3 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Copying_and_replaying_find_the_same_states_and_traces(string variant, int depth)
    {
        var v = KernelVariants.Get(variant);
        var replay = Explore(v, depth, ExploreMode.Replay);
        var copy = Explore(v, depth, ExploreMode.Copy);
        var rebuilt = Explore(v, depth, ExploreMode.Copy, memoryLimit: 0);
        output.WriteLine($"{variant} depth {depth}: states per depth {string.Join(", ", replay.StatesPerDepth)}, {replay.Transitions} transitions, {replay.Violations.Count} violation(s)");
        foreach (var r in new[] { copy, rebuilt })
        {
            Assert.Equal(replay.StatesPerDepth, r.StatesPerDepth);
            Assert.Equal(replay.States, r.States);
            Assert.Equal(replay.Transitions, r.Transitions);
            Assert.Equal(replay.Violations.Count, r.Violations.Count);
            for (int i = 0; i < replay.Violations.Count; i++)
            {
                var (a, b) = (replay.Violations[i], r.Violations[i]);
                Assert.Equal(a.Invariant, b.Invariant);
                Assert.Equal(a.Rule, b.Rule);
                Assert.Equal(a.Detail, b.Detail);
                Assert.Equal(a.Trace, b.Trace);
                Assert.Equal(a.Script, b.Script);
            }
        }
    }
}
