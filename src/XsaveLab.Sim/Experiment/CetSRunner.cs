using XsaveLab.Arch.Cpuid;
using XsaveLab.Host.Cpu;
using XsaveLab.Sim.Cost;
using XsaveLab.Sim.Measure;

namespace XsaveLab.Sim.Experiment;

/// <summary>How the experiment gets its inputs when run as a command.</summary>
public sealed record CetSRunOptions
{
    public int Tasks { get; init; } = 1000;
    public int Vcpus { get; init; } = 8;

    /// <summary>Cost-model parameters from a file; null = calibrate on this machine when possible.</summary>
    public string? CostModelFile { get; init; }

    /// <summary>Measure context_switch1-style ping-pong on this machine (only when the CPU is this machine's).</summary>
    public bool Measure { get; init; } = true;

    public int MeasureRuns { get; init; } = 5;
    public TimeSpan MeasureRunDuration { get; init; } = TimeSpan.FromSeconds(1);
    public PingPongMode MeasureMode { get; init; } = PingPongMode.Threads;

    /// <summary>Quick calibration (fewer mixes and rounds) for the report section.</summary>
    public bool QuickCalibration { get; init; }

    public bool ModifiedOptimization { get; init; } = true;
}

/// <summary>Runs the experiment end to end: load or calibrate the cost model, measure this machine when the
/// CPU is this machine, then <see cref="CetSExperiment.Run"/>.</summary>
public static class CetSRunner
{
    public static CetSResult Run(CpuProfile cpu, bool cpuIsHost, CetSRunOptions o, IProgress<(string Stage, double Fraction)>? progress = null)
    {
        var notes = new List<string>();
        CostModelParameters? parameters = null;
        string? source = null;
        if (o.CostModelFile is { } file)
        {
            parameters = CostModelParameters.Load(file); // CostModelFormatException names file and field
            source = $"{file} ({parameters.Machine}, {parameters.CpuSignature})";
        }
        else if (NativeXsaveTimer.Unavailable() is null)
        {
            using var timer = o.QuickCalibration ? new NativeXsaveTimer(2_000, 3) : new NativeXsaveTimer();
            var cal = Calibrator.Run(timer, o.QuickCalibration ? new CalibrationOptions { MaxMixes = 27 } : null,
                Wrap(progress, "calibrating native XSAVE/XRSTOR"));
            parameters = cal.Parameters;
            source = $"calibrated now on this machine ({parameters.Machine}, {parameters.CpuSignature}); held-out error ≤ {cal.MaxAbsErrorPct():F1} %";
        }
        else
            notes.Add($"No cost model: native timing unavailable ({NativeXsaveTimer.Unavailable()}) and no --cost-model given.");

        ContextSwitchMeasurement? measured = null;
        CpuProfile? measuredOn = null;
        if (o.Measure && cpuIsHost)
        {
            var mo = new ContextSwitchOptions
            {
                Mode = o.MeasureMode,
                State = VectorState.Init,
                Runs = o.MeasureRuns,
                RunDuration = o.MeasureRunDuration,
            };
            if (ContextSwitchMeter.Unavailable(mo) is null || ContextSwitchMeter.Unavailable(mo = mo with { State = VectorState.AsIs }) is null)
            {
                measured = ContextSwitchMeter.Measure(mo, Wrap(progress, "measuring context switches"));
                measuredOn = cpu;
            }
            else
                notes.Add($"Not measured: {ContextSwitchMeter.Unavailable(mo)}.");
        }
        else if (o.Measure && !cpuIsHost)
            notes.Add("Not measured: the chosen CPU is not this machine's.");

        progress?.Report(("simulating variants", 0));
        var r = CetSExperiment.Run(cpu, new CetSOptions
        {
            Tasks = o.Tasks,
            Vcpus = o.Vcpus,
            CostModel = parameters,
            CostModelSource = source,
            Measured = measured,
            MeasuredOn = measuredOn,
            ModifiedOptimization = o.ModifiedOptimization,
        }, Wrap(progress, "simulating variants"));
        return r with { Notes = [.. notes, .. r.Notes] };
    }

    private static IProgress<double>? Wrap(IProgress<(string, double)>? p, string stage) =>
        p is null ? null : new Relay(f => p.Report((stage, f)));

    private sealed class Relay(Action<double> a) : IProgress<double>
    {
        public void Report(double value) => a(value);
    }
}
