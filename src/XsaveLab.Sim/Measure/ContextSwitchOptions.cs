namespace XsaveLab.Sim.Measure;

/// <summary>Parameters of a real <c>context_switch1</c>-style measurement.</summary>
public sealed record ContextSwitchOptions
{
    public PingPongMode Mode { get; init; } = PingPongMode.Threads;
    public VectorState State { get; init; } = VectorState.Init;

    /// <summary>CPU both sides are pinned to (will-it-scale pins a pair to one CPU); −1 = the first allowed CPU.</summary>
    public int Cpu { get; init; } = -1;

    /// <summary>Measured runs (each one sample of switches/s).</summary>
    public int Runs { get; init; } = 5;

    public TimeSpan RunDuration { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Discarded first (will-it-scale discards its first samples as warm-up).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>The partner executable for <see cref="PingPongMode.Processes"/>; null = look next to this library.</summary>
    public string? PartnerPath { get; init; }

    public void Validate()
    {
        if (Runs is < 1 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(Runs), Runs, "runs must be 1..1000");
        if (RunDuration <= TimeSpan.Zero || RunDuration > TimeSpan.FromMinutes(10))
            throw new ArgumentOutOfRangeException(nameof(RunDuration), RunDuration, "run duration must be in (0, 10 min]");
        if (Warmup < TimeSpan.Zero || Warmup > TimeSpan.FromMinutes(10))
            throw new ArgumentOutOfRangeException(nameof(Warmup), Warmup, "warm-up must be in [0, 10 min]");
        if (Cpu is < -1 or >= 1024)
            throw new ArgumentOutOfRangeException(nameof(Cpu), Cpu, "cpu must be -1..1023");
    }
}

/// <summary>Switches/s of each run and their summary.</summary>
/// <param name="XinUseMeasuring">XGETBV(1) of the measuring side while switching (null without XGETBV1).</param>
/// <param name="SwitchesPerSecond">One sample per run: 2 × round trips / seconds.</param>
/// <param name="Median">Median of the samples.</param>
/// <param name="SpreadPct">Run-to-run spread: (max − min) / median × 100.</param>
/// <param name="RelativeStdDevPct">Sample standard deviation / mean × 100.</param>
public sealed record ContextSwitchMeasurement(
    PingPongMode Mode,
    VectorState State,
    int Cpu,
    ulong? XinUseMeasuring,
    IReadOnlyList<double> SwitchesPerSecond,
    double Median,
    double SpreadPct,
    double RelativeStdDevPct,
    long TotalSwitches);
