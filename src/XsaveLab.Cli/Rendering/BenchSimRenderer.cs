using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record BenchSimJson(
    double SimulatedSwitchesPerSecond, double BytesPerTask, double AccountedBytesPerTask, int BytesPerTaskBound, bool MeetsMemoryTarget, string Cpu, string Variant, int TaskFpstateBytes, int Tasks,
    IReadOnlyList<double> Runs, double BytesMovedPerSwitch, bool OptimizedBuild);

/// <summary><c>bench sim</c>: simulated switches per second on one core and bytes of memory per simulated task,
/// each against its target.</summary>
public sealed class BenchSimRenderer : IRenderer<SimBenchResult>
{
    public object ToJson(SimBenchResult r) => new BenchSimJson(
        r.SimulatedSwitchesPerSecond, r.BytesPerTask, r.AccountedBytesPerTask, r.BytesPerTaskBound, r.MeetsMemoryTarget, r.Cpu, r.Variant, r.TaskFpstateBytes, r.MemoryTasks, r.Runs, r.BytesMovedPerSwitch, r.OptimizedBuild);

    public void RenderText(IAnsiConsole c, SimBenchResult r)
    {
        c.WriteLine($"{r.Cpu}, kernel {r.Variant}: {Numbers.Real(r.SimulatedSwitchesPerSecond, 0)} simulated switches/s on one core " +
            $"(median of {r.Runs.Count}: {string.Join(", ", r.Runs.Select(x => Numbers.Real(x, 0)))}), {Numbers.Real(r.BytesMovedPerSwitch, 0)} bytes moved per switch; target {Numbers.Int(2_000_000)}: {(r.MeetsSpeedTarget ? "met" : "not met")}");
        if (!r.OptimizedBuild)
            c.WriteLine("warning: the simulator is a Debug build; build with -c Release for representative speed");
        c.WriteLine($"{Numbers.Real(r.BytesPerTask, 0)} bytes per task for {Numbers.Int(r.MemoryTasks)} tasks (accounted {Numbers.Real(r.AccountedBytesPerTask, 0)}; fpstate {Numbers.Int(r.TaskFpstateBytes)} B; bound fpstate + {Numbers.Int(SimBenchResult.PerTaskOverheadBound)} = {Numbers.Int(r.BytesPerTaskBound)} B): {(r.MeetsMemoryTarget ? "met" : "not met")}");
    }
}
