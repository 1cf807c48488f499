namespace XsaveLab.Kernel.Tests;

/// <summary>tools/testing/selftests/x86/xstate.c context-switch test (docs/linux-fpu-core.md, "Selftests"): 5 threads in a ring,
/// 10 rounds each; every thread checks that its registers still hold what it loaded, then loads new values.</summary>
public class ContextSwitchRingTests
{
    [Theory]
    [MemberData(nameof(KernelKit.CpusAndVariants), MemberType = typeof(KernelKit))]
    public void Five_threads_ten_rounds_every_register_survives(string cpu, string variant)
    {
        Run(cpu, variant, migrate: false);
        Run(cpu, variant, migrate: true);
    }

    private static void Run(string cpu, string variant, bool migrate)
    {
        var k = KernelKit.Kernel(cpu, variant, cpus: 4);
        int seed = XsaveLab.Tests.StableSeed.Of(cpu, variant, migrate);
        var rng = new Random(seed);
        string ctx = $"{cpu}/{variant}/{(migrate ? "migrating" : "pinned to CPU 0")} seed {seed}";
        var main = k.SpawnProcess("xstate");
        k.Schedule(0, main);
        var comps = KernelKit.TestableComponents(k).ToArray();
        if (comps.Contains((int)XFeature.XtileData))
            Assert.Equal(0, k.ArchPrctlRequest(main, ArchPrctl.XcompTileData));
        var threads = Enumerable.Range(0, 5).Select(i => k.Fork(main, thread: true, name: $"t{i}")).ToArray();
        var expected = new Dictionary<int, byte[]>[threads.Length];

        void Load(int i)
        {
            expected[i] = [];
            foreach (int c in comps)
            {
                var r = k.UseComponent(threads[i], c, KernelKit.RandomData(k, c, rng));
                Assert.True(r.Done, $"{ctx}: thread {i} component {c}: {r}");
                expected[i][c] = k.ReadComponent(threads[i], c).ToArray();
            }
        }

        int Cpu(int round, int i) => migrate ? (round + i) % k.Cpus.Count : 0;
        for (int i = 0; i < threads.Length; i++)
        {
            k.Schedule(Cpu(0, i), threads[i]);
            Load(i);
            k.Block(threads[i]);
        }
        for (int round = 0; round < 10; round++)
        {
            for (int i = 0; i < threads.Length; i++)
            {
                k.Wake(threads[i]);
                k.Schedule(Cpu(round, i), threads[i]);
                foreach (var (c, want) in expected[i])
                    Assert.True(want.AsSpan().SequenceEqual(k.ReadComponent(threads[i], c)), $"{ctx}: round {round} thread {i} component {c} changed");
                Load(i);
                k.Block(threads[i]);
                KernelKit.AssertInvariants(k, $"{ctx} round {round} thread {i}");
            }
        }
        Assert.Empty(k.Warnings.Entries);
        Assert.True(k.Counters.Saves >= 50);
    }
}
