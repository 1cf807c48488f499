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
        var switches = new Option<long>("--switches") { Description = "Simulated switches per timed run", DefaultValueFactory = _ => 2_000_000, HelpName = "N" };
        var format = FormatOption.Create();
        var cmd = new Command("sim", "Simulator speed (switches/s on one core, real XSAVES/XRSTORS on the model) and memory per simulated task");
        cpu.AddTo(cmd);
        cmd.Add(tasks); cmd.Add(switches); cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var sel = cpu.Resolve(parse);
            var options = Options(parse.GetValue(tasks), parse.GetValue(switches));
            if (!sel.Profile.HasXsave)
                throw new UserErrorException($"{sel.Profile.Name} has no XSAVE: nothing to simulate");
            if (XsaveLab.Sim.Workload.Simulator.Unsupported(XsaveLab.Kernel.Boot.FpuSystem.Boot(sel.Profile)) is { } why)
                throw new UserErrorException(why);
            var r = SimProgress.RunStage(ctx, "simulating", p => SimBench.Run(sel.Profile, options, p));
            return ctx.Render(FormatOption.Get(parse, format), r, new BenchSimRenderer());
        });
        return cmd;
    }

    /// <summary>The run's options, checked: a bound far above any useful run keeps memory and time finite.</summary>
    private static SimBenchOptions Options(int tasks, long switches)
    {
        if (tasks is < 2 or > 10_000_000)
            throw new UserErrorException($"--tasks: {tasks} is outside 2..10000000");
        if (switches is < 1000 or > 1_000_000_000)
            throw new UserErrorException($"--switches: {switches} is outside 1000..1000000000");
        return new SimBenchOptions { MemoryTasks = tasks, Switches = switches };
    }
}
