using Spectre.Console;
using XsaveLab.Sim.Explore;

namespace XsaveLab.Cli.Rendering;

/// <summary>One explored variant in <c>bench explore --format json</c>.</summary>
public sealed record BenchExploreJson(string Kernel, string Cpu, int Depth, long States, IReadOnlyList<long> StatesPerDepth,
    long Transitions, double Seconds, double StatesPerSecond, int Violations);

/// <summary><c>bench explore</c>: states per depth and states per second for each variant.</summary>
public sealed class BenchExploreRenderer : IRenderer<List<ExploreResult>>
{
    public object ToJson(List<ExploreResult> results) => results.Select(r => new BenchExploreJson(r.Kernel, r.Cpu, r.Depth, r.States,
        r.StatesPerDepth, r.Transitions, Math.Round(r.Seconds, 3), Math.Round(r.StatesPerSecond), r.Violations.Count)).ToList();

    public IEnumerable<string> Warnings(List<ExploreResult> results) =>
        !XsaveLab.Sim.Bench.SimBench.IsOptimized() ? ["built without optimization (Debug); run with -c Release for figures that mean something"] : [];

    public void RenderText(IAnsiConsole console, List<ExploreResult> results)
    {
        var t = new Table().Border(TableBorder.Rounded).AddColumn("kernel").AddColumn("states per depth")
            .AddColumn(new TableColumn("states").RightAligned()).AddColumn(new TableColumn("states/s").RightAligned());
        foreach (var r in results)
            t.AddRow(Markup.Escape(r.Kernel), string.Join(", ", r.StatesPerDepth.Select(n => Numbers.Int(n))), Numbers.Int(r.States), Numbers.Real(r.StatesPerSecond, 0));
        console.Write(t);
        console.WriteLine($"{results[0].Cpu}, depth {results[0].Depth}, one core; aim: {Numbers.Int(200_000)} states/s");
    }
}
