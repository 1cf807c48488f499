namespace XsaveLab.Sim.Experiment;

/// <summary>How the experiment gets its inputs when run as a command.</summary>
public sealed record CetSRunOptions
{
    public int Tasks { get; init; } = 1000;
    public int Vcpus { get; init; } = 8;

    /// <summary>Cost-model parameters from a file; null = the shipped reference model
    /// (<see cref="ReferenceCostModel"/>) unless <see cref="Calibrate"/>.</summary>
    public string? CostModelFile { get; init; }

    /// <summary>Fit the cost model on this machine now instead of using the shipped one (only when asked: the
    /// answer then depends on the machine and its load).</summary>
    public bool Calibrate { get; init; }

    /// <summary>Measure context_switch1-style ping-pong on this machine (only when the CPU is this machine's).</summary>
    public bool Measure { get; init; }

    public int MeasureRuns { get; init; } = 5;
    public TimeSpan MeasureRunDuration { get; init; } = TimeSpan.FromSeconds(1);
    public PingPongMode MeasureMode { get; init; } = PingPongMode.Threads;

    public bool ModifiedOptimization { get; init; } = true;

    /// <summary>Struct sizes of a kernel build (given, or read from a BTF file); null: this kernel's BTF when the CPU
    /// is this machine's, else no task_struct slab figures.</summary>
    public Kernel.Memory.TaskStructSizes? StructSizes { get; init; }

    /// <summary>A further design shown beside the series' cases (<see cref="CetSOptions.Design"/>).</summary>
    public KernelVariant? Design { get; init; }
}

/// <summary>Runs the experiment end to end: load the cost model (file, shipped reference, or a calibration when
/// asked), measure this machine when asked and the CPU is this machine, then <see cref="CetSExperiment.Run"/>.
/// Without <see cref="CetSRunOptions.Calibrate"/> and <see cref="CetSRunOptions.Measure"/> nothing is timed, so
/// the same input gives the same bytes.</summary>
public static class CetSRunner
{
    /// <exception cref="CostModelFormatException">The cost-model file cannot be used (names file and field).</exception>
    public static CetSResult Run(CpuProfile cpu, bool cpuIsHost, CetSRunOptions o, IProgress<(string Stage, double Fraction)>? progress = null)
    {
        var notes = new List<string>();
        var warnings = new List<string>();
        // A CPU without XSAVE has nothing to price or compare: no calibration, no measurement.
        bool live = cpu.HasXsave;
        var (parameters, source) = CostModelFor(o, live, notes, warnings, progress);

        ContextSwitchMeasurement? measured = null;
        CpuProfile? measuredOn = null;
        if (o.Measure && cpuIsHost && live)
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
                var before = MachineLoad.Read();
                measured = ContextSwitchMeter.Measure(mo, Wrap(progress, "measuring context switches"));
                warnings.AddRange(MeasurementQuality.Assess("context-switch measurement", before, MachineLoad.Read(), measured.SpreadPct, pingPong: true));
                measuredOn = cpu;
            }
            else
                notes.Add($"Not measured: {ContextSwitchMeter.Unavailable(mo)}.");
        }
        else if (o.Measure && !cpuIsHost)
            notes.Add("Not measured: the chosen CPU is not this machine's.");

        var (sizes, slub) = Memory(cpuIsHost, o, notes);
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
            StructSizes = sizes,
            Slub = slub,
            Design = o.Design,
        }, Wrap(progress, "simulating variants"));
        return r with { Notes = [.. notes, .. r.Notes], Warnings = [.. warnings.Distinct()] };
    }

    /// <summary>The struct sizes and SLUB inputs of the memory figures: given sizes, else this kernel's BTF for this
    /// machine's CPU; this machine's CPU count and boot options when the CPU is this machine's.</summary>
    private static (Kernel.Memory.TaskStructSizes?, Kernel.Memory.SlubParams) Memory(bool cpuIsHost, CetSRunOptions o, List<string> notes)
    {
        var slub = cpuIsHost ? Host.Memory.HostSlab.Params() : Kernel.Memory.SlubParams.Default;
        if (o.StructSizes is { } given)
            return (given, slub);
        if (!cpuIsHost)
        {
            notes.Add("No task_struct slab figures: give --btf FILE or --task-struct-size (with --fpu-struct-size for a 6.16+ build), or use --host.");
            return (null, slub);
        }
        try
        {
            return (Host.Memory.TaskStructBtf.Read(Host.Memory.TaskStructBtf.VmlinuxPath), slub);
        }
        catch (Host.Memory.BtfFormatException e)
        {
            notes.Add($"No task_struct slab figures: {e.Message}");
            return (null, slub);
        }
    }

    private static (CostModelParameters? Parameters, string? Source) CostModelFor(CetSRunOptions o, bool live, List<string> notes,
        List<string> warnings, IProgress<(string, double)>? progress)
    {
        if (o.CostModelFile is { } file)
        {
            var p = CostModelParameters.Load(file);
            return (p, $"{file} ({p.Machine}, {p.CpuSignature})");
        }
        if (o.Calibrate && live)
        {
            if (NativeXsaveTimer.Unavailable() is { } why)
            {
                notes.Add($"Not calibrated: native timing unavailable ({why}); the shipped reference model is used.");
                var reference = ReferenceCostModel.Load();
                return (reference, ReferenceCostModel.Describe(reference));
            }
            var before = MachineLoad.Read();
            using var timer = new NativeXsaveTimer();
            var cal = Calibrator.Run(timer, null, Wrap(progress, "calibrating native XSAVE/XRSTOR"));
            warnings.AddRange(MeasurementQuality.Assess("calibration", before, MachineLoad.Read(), heldOutErrorPct: cal.MaxAbsErrorPct()));
            return (cal.Parameters, $"calibrated now on this machine ({cal.Parameters.Machine}, {cal.Parameters.CpuSignature}); held-out error ≤ {cal.MaxAbsErrorPct():F1} %");
        }
        var shipped = ReferenceCostModel.Load();
        return (shipped, ReferenceCostModel.Describe(shipped));
    }

    private static IProgress<double>? Wrap(IProgress<(string, double)>? p, string stage) =>
        p is null ? null : new Relay(f => p.Report((stage, f)));

    private sealed class Relay(Action<double> a) : IProgress<double>
    {
        public void Report(double value) => a(value);
    }
}
