using XsaveLab.Sim.Explore;

namespace XsaveLab.Cli.Commands;

/// <summary><c>bench explore</c>: the explorer's states per second on one core and its states per depth, for
/// 6.15 and 6.17 on one CPU (<see cref="StateExplorer"/>). The BenchmarkDotNet class
/// bench/XsaveLab.Benchmarks/Explore/ExploreBenchmarks.cs is the thorough version.</summary>
public static class BenchExploreCommand
{
    public static Command Create(CliContext ctx)
    {
        var depth = IntOption.Create("--depth", "Longest trace explored, in actions", 4, 0, ExploreOptions.MaxDepth);
        var format = FormatOption.Create();
        var cmd = new Command("explore", "Explorer speed: states per second on one core and states per depth (spr, 6.15 and 6.17, 2 tasks, 2 vCPUs)");
        cmd.Add(depth); cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var results = new[] { "6.15", "6.17" }.Select(v => new StateExplorer(new ExploreOptions(
                KvmSettings.For(CpuCatalog.Default, KernelVariants.Get(v)), parse.GetValue(depth))).Run()).ToList();
            return ctx.Render(FormatOption.Get(parse, format), results, new BenchExploreRenderer());
        });
        return cmd;
    }
}
