namespace XsaveLab.Sim.Bench;

public sealed record SimBenchOptions
{
    /// <summary>context_switch1 pairs on the one simulated CPU.</summary>
    public int Pairs { get; init; } = 1;

    /// <summary>Timed simulated switches per run.</summary>
    public long Switches { get; init; } = 2_000_000;

    public int Runs { get; init; } = 3;

    /// <summary>Tasks in the memory measurement (one pair plus sleeping tasks).</summary>
    public int MemoryTasks { get; init; } = 100_000;

    public string Variant { get; init; } = KernelVariants.DefaultName;
}

/// <summary><c>bench sim</c>: simulated context switches per second on one core for context_switch1 with real
/// byte movement, and bytes of memory per simulated task.</summary>
/// <param name="SimulatedSwitchesPerSecond">Median over runs, wall-clock, one thread.</param>
/// <param name="BytesPerTask">Managed heap growth for <c>MemoryTasks</c> tasks / tasks (GC.GetTotalMemory after a full collection).</param>
/// <param name="TaskFpstateBytes">The task fpstate size the per-task budget is measured against.</param>
/// <param name="AccountedBytesPerTask">The simulator's own count: fpstate slots and task tables per task.</param>
public sealed record SimBenchResult(
    double SimulatedSwitchesPerSecond,
    double BytesPerTask,
    string Cpu,
    string Variant,
    int TaskFpstateBytes,
    int MemoryTasks,
    double AccountedBytesPerTask,
    IReadOnlyList<double> Runs,
    double BytesMovedPerSwitch,
    bool OptimizedBuild)
{
    public bool MeetsSpeedTarget => SimulatedSwitchesPerSecond >= 2_000_000;
    /// <summary>Per-task memory allowed beyond the fpstate itself: the task's table entries and run-queue slot.</summary>
    public const int PerTaskOverheadBound = 64;

    /// <summary>The budget per task: fpstate size + <see cref="PerTaskOverheadBound"/>.</summary>
    public int BytesPerTaskBound => TaskFpstateBytes + PerTaskOverheadBound;

    public bool MeetsMemoryTarget => BytesPerTask <= BytesPerTaskBound;
}

public static class SimBench
{
    /// <summary>False when the simulator was compiled without optimisation (a Debug build): its speed then says
    /// little about the Release build the target refers to.</summary>
    public static bool IsOptimized() =>
        typeof(Simulator).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is not [DebuggableAttribute { IsJITOptimizerDisabled: true }];

    public static SimBenchResult Run(CpuProfile cpu, SimBenchOptions? options = null, IProgress<double>? progress = null)
    {
        var o = options ?? new SimBenchOptions();
        var sys = FpuSystem.Boot(cpu, KernelVariants.Get(o.Variant));
        var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = o.Pairs });
        sim.Run(Math.Min(200_000, o.Switches)); // JIT warm-up and tiering
        var runs = new List<double>();
        long bytes = 0, switches = 0;
        for (int i = 0; i < o.Runs; i++)
        {
            long b0 = sim.Stats.SwitchSaves.Bytes + sim.Stats.SwitchRestores.Bytes, s0 = sim.Stats.Switches;
            var sw = Stopwatch.StartNew();
            sim.Run(o.Switches);
            double secs = sw.Elapsed.TotalSeconds;
            runs.Add((sim.Stats.Switches - s0) / secs);
            bytes += sim.Stats.SwitchSaves.Bytes + sim.Stats.SwitchRestores.Bytes - b0;
            switches += sim.Stats.Switches - s0;
            progress?.Report((i + 1.0) / (o.Runs + 1));
        }

        long before = GC.GetTotalMemory(forceFullCollection: true);
        var big = new Simulator(sys, new WorkloadSpec { PingPongPairs = 1, IdleTasks = Math.Max(0, o.MemoryTasks - 2) });
        long after = GC.GetTotalMemory(forceFullCollection: true);
        big.Run(1000); // the memory is live and usable
        double perTask = (after - before) / (double)Math.Max(1, o.MemoryTasks);
        var accounted = big.Memory.BytesPerTask;
        GC.KeepAlive(big);
        progress?.Report(1);
        return new SimBenchResult(Measure.Stats.Median(runs), perTask, cpu.Name, sys.Variant.Name, sys.KernelCfg.DefaultSize,
            o.MemoryTasks, accounted, runs, switches == 0 ? 0 : (double)bytes / switches, IsOptimized());
    }
}
