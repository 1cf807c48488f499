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
        c.WriteLine($"{r.Cpu}, kernel {r.Variant}: {r.SimulatedSwitchesPerSecond.ToString("N0", CultureInfo.InvariantCulture)} simulated switches/s on one core " +
            $"(median of {r.Runs.Count}: {string.Join(", ", r.Runs.Select(x => x.ToString("N0", CultureInfo.InvariantCulture)))}), {r.BytesMovedPerSwitch:F0} bytes moved per switch; target 2,000,000: {(r.MeetsSpeedTarget ? "met" : "not met")}");
        if (!r.OptimizedBuild)
            c.WriteLine("warning: the simulator is a Debug build; build with -c Release for representative speed");
        c.WriteLine($"{r.BytesPerTask:F0} bytes per task for {r.MemoryTasks:N0} tasks (accounted {r.AccountedBytesPerTask:F0}; fpstate {r.TaskFpstateBytes} B; bound fpstate + {SimBenchResult.PerTaskOverheadBound} = {r.BytesPerTaskBound} B): {(r.MeetsMemoryTarget ? "met" : "not met")}");
    }
}
