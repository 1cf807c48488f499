namespace XsaveLab.Sim.Cost;

/// <summary>What <c>calibrate</c> produces: the fit with its held-out check, the parameters to save (with the fixed
/// per-switch part when a ping-pong was measured), and warnings when the machine was too busy for the figures to
/// be trusted.</summary>
public sealed record CalibrationReport(
    CalibrationResult Calibration,
    CostModelParameters Parameters,
    ContextSwitchMeasurement? Measured,
    IReadOnlyList<string> Warnings)
{
    /// <summary>The calibration's accuracy figure: worst |error| over the held-out save+restore pairs, %.</summary>
    public double MaxHeldOutErrorPct => Calibration.MaxAbsErrorPct();
}

/// <summary>Calibrates on this machine: times native XSAVE-family mixes (<see cref="Calibrator"/>,
/// <see cref="NativeXsaveTimer"/>) and, when asked, measures a real ping-pong to split off the fixed per-switch part
/// (<see cref="CetSExperiment.FixedPartNs"/>).</summary>
public static class CalibrationSession
{
    /// <summary>Why calibration cannot run here, or null.</summary>
    public static string? Unavailable() => NativeXsaveTimer.Unavailable();

    public static CalibrationReport Run(bool measureFixedPart, IProgress<(string Stage, double Fraction)>? progress = null)
    {
        var before = MachineLoad.Read();
        CalibrationResult cal;
        using (var timer = new NativeXsaveTimer())
            cal = Calibrator.Run(timer, null, Relay(progress, "timing native XSAVE/XRSTOR mixes"));
        var warnings = MeasurementQuality.Assess("calibration", before, MachineLoad.Read(), heldOutErrorPct: cal.MaxAbsErrorPct()).ToList();

        ContextSwitchMeasurement? m = null;
        var parameters = cal.Parameters;
        var mo = new ContextSwitchOptions { Mode = PingPongMode.Threads, State = VectorState.Init };
        if (measureFixedPart && ContextSwitchMeter.Unavailable(mo) is null)
        {
            var pingBefore = MachineLoad.Read();
            m = ContextSwitchMeter.Measure(mo, Relay(progress, "measuring the fixed per-switch part"));
            warnings.AddRange(MeasurementQuality.Assess("fixed per-switch part", pingBefore, MachineLoad.Read(), m.SpreadPct, pingPong: true));
            if (HostCpu.TryRead(out var host, out _) && CetSExperiment.FixedPartNs(new CostModel(parameters), m, host!) is { } split)
                parameters = parameters with { SwitchFixedNs = split.FixedNs, SwitchSpreadPct = m.SpreadPct, MeasuredSwitchesPerSecond = m.Median };
        }
        return new CalibrationReport(cal, parameters, m, [.. warnings.Distinct()]);
    }

    private static IProgress<double>? Relay(IProgress<(string, double)>? p, string stage) =>
        p is null ? null : new StageProgress(f => p.Report((stage, f)));

    private sealed class StageProgress(Action<double> a) : IProgress<double>
    {
        public void Report(double value) => a(value);
    }
}
