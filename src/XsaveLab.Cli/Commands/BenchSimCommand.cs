using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Cli.Commands.Sim;
using XsaveLab.Sim.Bench;

namespace XsaveLab.Cli.Commands;

/// <summary><c>bench sim</c>: simulated context switches per second on one core (context_switch1 with real byte
/// movement) and bytes of memory per simulated task (<see cref="SimBench"/>). The BenchmarkDotNet class
/// bench/XsaveLab.Benchmarks/Sim/SimulatorBenchmarks.cs is the thorough version.</summary>
public static class BenchSimCommand
{
    public static Command Create(CliContext ctx)
    {
        var cpu = new CpuSourceOptions();
        var tasks = new Option<int>("--tasks") { Description = "Tasks for the memory measurement", DefaultValueFactory = _ => 100_000, HelpName = "N" };
        var switches = new Option<long>("--switches") { Description = "Simulated switches per timed run", DefaultValueFactory = _ => 2_000_000 };
        var format = FormatOption.Create();
        var cmd = new Command("sim", "Simulator speed (switches/s on one core, real XSAVES/XRSTORS on the model) and memory per simulated task");
        cpu.AddTo(cmd);
        cmd.Add(tasks); cmd.Add(switches); cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var sel = cpu.Resolve(parse);
            int n = parse.GetValue(tasks);
            long s = parse.GetValue(switches);
            if (n is < 2 or > 10_000_000)
                throw new UserErrorException($"--tasks: {n} is outside 2..10000000");
            if (s is < 1000 or > 1_000_000_000)
                throw new UserErrorException($"--switches: {s} is outside 1000..1000000000");
            if (!sel.Profile.HasXsave)
                throw new UserErrorException($"{sel.Profile.Name} has no XSAVE: nothing to simulate");
            if (XsaveLab.Sim.Workload.Simulator.Unsupported(XsaveLab.Kernel.Boot.FpuSystem.Boot(sel.Profile)) is { } why)
                throw new UserErrorException(why);
            var r = SimProgress.RunStage(ctx, "simulating", p => SimBench.Run(sel.Profile, new SimBenchOptions { MemoryTasks = n, Switches = s }, p));
            if (FormatOption.Get(parse, format) == OutputFormat.Json)
            {
                Json.Write(ctx.Out, new
                {
                    simulatedSwitchesPerSecond = r.SimulatedSwitchesPerSecond,
                    bytesPerTask = r.BytesPerTask,
                    accountedBytesPerTask = r.AccountedBytesPerTask,
                    bytesPerTaskBound = r.BytesPerTaskBound,
                    meetsMemoryTarget = r.MeetsMemoryTarget,
                    cpu = r.Cpu,
                    variant = r.Variant,
                    taskFpstateBytes = r.TaskFpstateBytes,
                    tasks = r.MemoryTasks,
                    runs = r.Runs,
                    bytesMovedPerSwitch = r.BytesMovedPerSwitch,
                    optimizedBuild = r.OptimizedBuild,
                });
                return 0;
            }
            var c = ctx.CreateConsole();
            c.WriteLine($"{r.Cpu}, kernel {r.Variant}: {r.SimulatedSwitchesPerSecond.ToString("N0", CultureInfo.InvariantCulture)} simulated switches/s on one core " +
                $"(median of {r.Runs.Count}: {string.Join(", ", r.Runs.Select(x => x.ToString("N0", CultureInfo.InvariantCulture)))}), {r.BytesMovedPerSwitch:F0} bytes moved per switch; target 2,000,000: {(r.MeetsSpeedTarget ? "met" : "not met")}");
            if (!r.OptimizedBuild)
                c.WriteLine("warning: the simulator is a Debug build; build with -c Release for representative speed");
            c.WriteLine($"{r.BytesPerTask:F0} bytes per task for {r.MemoryTasks:N0} tasks (accounted {r.AccountedBytesPerTask:F0}; fpstate {r.TaskFpstateBytes} B; bound fpstate + {SimBenchResult.PerTaskOverheadBound} = {r.BytesPerTaskBound} B): {(r.MeetsMemoryTarget ? "met" : "not met")}");
            return 0;
        });
        return cmd;
    }
}
