using Spectre.Console;
using XsaveLab.Sim.Explore;

namespace XsaveLab.Cli.Rendering;

/// <summary>The <c>explore --format json</c> document.</summary>
public sealed record ExploreJson(string Kernel, string Cpu, string Kvm, int Depth, int Tasks, int Vcpus, int Actions, long States,
    IReadOnlyList<long> StatesPerDepth, long Transitions, double? Seconds, double? StatesPerSecond, IReadOnlyList<ExploreViolation> Violations);

/// <summary><c>explore</c>: states per depth, the rate (unless left out), and each violation with its numbered trace.
/// Exit code 1 when an invariant is violated.</summary>
public sealed class ExploreRenderer(bool timing, string? scriptPath) : IRenderer<ExploreResult>
{
    public object ToJson(ExploreResult r) => new ExploreJson(r.Kernel, r.Cpu, r.Kvm, r.Depth, r.Tasks, r.Vcpus, r.Actions, r.States,
        r.StatesPerDepth, r.Transitions, timing ? Math.Round(r.Seconds, 3) : null, timing ? Math.Round(r.StatesPerSecond) : null, r.Violations);

    public int ExitCode(ExploreResult r) => r.Violations.Count > 0 ? 1 : 0;

    public void RenderText(IAnsiConsole console, ExploreResult r)
    {
        console.WriteLine($"kernel {r.Kernel}, CPU {r.Cpu}, KVM {r.Kvm}: {Numbers.Int(r.Tasks)} task(s), {Numbers.Int(r.Vcpus)} vCPU(s), {Numbers.Int(r.Actions)} actions, depth {r.Depth}");
        var t = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("depth").RightAligned())
            .AddColumn(new TableColumn("new states").RightAligned());
        for (int d = 0; d < r.StatesPerDepth.Count; d++)
            t.AddRow(d.ToString(CultureInfo.InvariantCulture), Numbers.Int(r.StatesPerDepth[d]));
        console.Write(t);
        console.WriteLine(timing
            ? $"{Numbers.Int(r.States)} states, {Numbers.Int(r.Transitions)} transitions in {Numbers.Real(r.Seconds, 2)} s ({Numbers.Real(r.StatesPerSecond, 0)} states/s)"
            : $"{Numbers.Int(r.States)} states, {Numbers.Int(r.Transitions)} transitions");
        if (r.Violations.Count == 0)
        {
            console.WriteLine("no invariant violated");
            return;
        }
        foreach (var v in r.Violations)
        {
            console.WriteLine("");
            console.WriteLine($"VIOLATION {v.Invariant} ({v.Rule})");
            console.WriteLine($"  {v.Detail}");
            console.WriteLine($"  shortest trace ({v.Trace.Count} action(s)):");
            for (int i = 0; i < v.Trace.Count; i++)
                console.WriteLine($"  {i + 1,3}. {v.Trace[i]}");
        }
        if (scriptPath is not null)
            console.WriteLine($"\nfirst trace written to {scriptPath}: xsavelab kvm --vmm {scriptPath}");
    }
}
