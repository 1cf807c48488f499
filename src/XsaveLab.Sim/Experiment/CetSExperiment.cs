namespace XsaveLab.Sim.Experiment;

public sealed record CetSOptions
{
    /// <summary>Host (non-vCPU) threads for the memory figure.</summary>
    public int Tasks { get; init; } = 1000;

    /// <summary>vCPUs for the memory figure.</summary>
    public int Vcpus { get; init; } = 8;

    /// <summary>Context switches simulated per variant and scenario.</summary>
    public long SimulatedSwitches { get; init; } = 20_000;

    public CostModelParameters? CostModel { get; init; }

    /// <summary>Describes where <see cref="CostModel"/> came from (file, or "calibrated now on …").</summary>
    public string? CostModelSource { get; init; }

    /// <summary>A real context_switch1-style measurement on the machine the cost model describes.</summary>
    public ContextSwitchMeasurement? Measured { get; init; }

    /// <summary>The profile of the machine <see cref="Measured"/> ran on (to split its time into the fixed part
    /// and the XSAVES/XRSTORS part); defaults to the experiment's CPU.</summary>
    public CpuProfile? MeasuredOn { get; init; }

    /// <summary>The processor uses XSAVES's modified optimisation (SDM Vol.1 §13.6); off = every in-use
    /// component is written on every save.</summary>
    public bool ModifiedOptimization { get; init; } = true;

    /// <summary>CPUs for the sweep; null = the built-in catalog.</summary>
    public IReadOnlyList<CatalogEntry>? Catalog { get; init; }

    /// <summary>Struct sizes of a kernel build for the task_struct slab figures; null: no memory figures.</summary>
    public Kernel.Memory.TaskStructSizes? StructSizes { get; init; }

    /// <summary>The SLUB inputs (CPU count, boot options) for those figures.</summary>
    public Kernel.Memory.SlubParams Slub { get; init; } = Kernel.Memory.SlubParams.Default;

    /// <summary>A further design to run beside the series' cases (<c>--kernel VARIANT|FILE</c>: another built-in
    /// variant or a variant file); null, or one of <see cref="CetSExperiment.Variants"/>, adds nothing.</summary>
    public KernelVariant? Design { get; init; }

    public void Validate()
    {
        if (Tasks is < 0 or > 10_000_000) throw new ArgumentOutOfRangeException(nameof(Tasks), Tasks, "0..10000000");
        if (Vcpus is < 0 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(Vcpus), Vcpus, "0..1000000");
        if (SimulatedSwitches is < 100 or > 100_000_000) throw new ArgumentOutOfRangeException(nameof(SimulatedSwitches), SimulatedSwitches, "100..100000000");
    }
}

/// <summary>The series' experiment (cover letter of "[PATCH v4 0/8] Introduce CET supervisor state support";
/// docs/linux-fpu-core.md, "The series' experiment"): context_switch1 under case 1 (6.16), case 2 (6.17), case 3 and the deferred alternative,
/// on the kernel model with simulated switches, priced by the calibrated cost model, next to a real measurement.</summary>
public static class CetSExperiment
{
    /// <summary>The variants in display order with the series' case labels.</summary>
    public static readonly IReadOnlyList<(KernelVariant Variant, string Case)> Variants =
    [
        (KernelVariants.V6_15, "before the series"),
        (KernelVariants.V6_16, "case 1 (baseline)"),
        (KernelVariants.V6_17, "case 2 (landed: guest-only CET_S)"),
        (KernelVariants.Case3, "case 3 (CET_S in every task)"),
        (KernelVariants.Deferred, "deferred (review alternative)"),
    ];

    /// <summary><see cref="Variants"/> and, after them, <paramref name="design"/> when it is not one of them: a built-in
    /// variant labelled as such, a variant file with the parent it changes.</summary>
    public static IReadOnlyList<(KernelVariant Variant, string Case)> WithDesign(KernelVariant? design)
    {
        if (design is null || Variants.Any(x => x.Variant.Name == design.Name))
            return Variants;
        string label = KernelVariants.Find(design.Name) is not null ? $"--kernel {design.Name}"
            : $"variant file (parent {design.Neighbour?.Name ?? "?"})";
        return [.. Variants, (design, label)];
    }

    /// <summary>The run-to-run variation assumed when no measurement is given: Chao Gao's 0.4–0.7 %
    /// (docs/linux-fpu-core.md, "The series' experiment"), lower bound.</summary>
    public const double ReportedVariationPct = 0.4;

    public static CetSResult Run(CpuProfile cpu, CetSOptions? options = null, IProgress<double>? progress = null)
    {
        var o = options ?? new CetSOptions();
        o.Validate();
        var notes = new List<string>();
        CostModel? cost = o.CostModel is null ? null : new CostModel(o.CostModel);
        double? fixedNs = o.CostModel?.SwitchFixedNs;
        if (cost is not null && fixedNs is null && o.Measured is { Median: > 0 } m
            && FixedPartNs(cost, m, o.MeasuredOn ?? cpu, o.ModifiedOptimization) is { } split)
        {
            fixedNs = split.FixedNs;
            notes.Add($"Fixed per-switch part {split.FixedNs:F0} ns = measured {1e9 / m.Median:F0} ns/switch − modelled XSAVES+XRSTORS {split.XferNs:F1} ns.");
        }
        if (cost is not null)
            cost = new CostModel(cost.Parameters with { SwitchFixedNs = fixedNs });
        else
            notes.Add("No cost model: bytes are counted, times are not predicted (run `calibrate` or give --cost-model).");

        var rows = new List<(KernelVariant V, string Case, FpuSystem Sys, SimStats Ping, SimStats Vcpu, FpuShapes Shapes, SaveInstruction Instr)>();
        var runs = WithDesign(o.Design);
        int step = 0, steps = runs.Count + 1;
        foreach (var (variant, label) in runs)
        {
            var sys = FpuSystem.Boot(cpu, variant);
            progress?.Report(++step / (double)steps * 0.5);
            if (!sys.XsaveEnabled || sys.SaveInstruction is SaveInstruction.Fxsave or SaveInstruction.Fnsave)
            {
                notes.Add($"{variant.Name}: {cpu.Name} has no XSAVE; nothing to simulate.");
                continue;
            }
            // A dump can pass the CPUID checks and still describe buffers the simulator cannot hand out: bad input.
            if (Simulator.Unsupported(sys) is { } why)
                throw new CpuProfileFormatException(cpu.Source, 0, $"the context-switch simulator cannot model this CPU under {variant.Name}: {why}");
            var ping = RunPingPong(sys, cost, o, wide: false);
            var vsim = new Simulator(sys, new WorkloadSpec { PingPongPairs = 0, Vcpus = 2, VcpuExitsPerSecond = 0 }, cost, CpuOptions(o));
            var vcpu = vsim.Run(Math.Max(100, o.SimulatedSwitches / 4));
            var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = 0 }, cost, CpuOptions(o));
            rows.Add((variant, label, sys, ping, vcpu, FpuShapes.Of(sys), sim.CostInstruction));
            if (ping.Faults + vcpu.Faults > 0)
                notes.Add($"{variant.Name}: the model raised {ping.Faults + vcpu.Faults} faults ({ping.FirstFault ?? vcpu.FirstFault}).");
        }

        // 6.15 is shown only where it differs from 6.16 in what this experiment reports.
        var r15 = rows.FirstOrDefault(r => r.V == KernelVariants.V6_15);
        var r16 = rows.FirstOrDefault(r => r.V == KernelVariants.V6_16);
        if (r15.Sys is not null && r16.Sys is not null && Same(r15, r16))
        {
            rows.Remove(r15);
            notes.Add("6.15 is identical to 6.16 here (the two preparatory patches change permissions, not sizes or switches).");
        }

        var baseRow = r16.Sys is not null ? r16 : rows.FirstOrDefault();
        var r3 = rows.FirstOrDefault(r => r.V == KernelVariants.Case3);
        var case3Cache = o.StructSizes is { } sz && r3.Sys is not null ? Kernel.Memory.TaskStructCache.Of(r3.Sys, sz, o.Slub) : null;
        double threshold = o.Measured is { } mt ? mt.SpreadPct : ReportedVariationPct;
        var variants = new List<VariantResult>();
        foreach (var r in rows)
        {
            double? ns = cost is null ? null : r.Ping.PredictedNsPerSwitch;
            double? delta = null, unc = null;
            if (cost is not null && baseRow.Sys is not null && ns > 0)
            {
                double nsBase = baseRow.Ping.PredictedNsPerSwitch;
                delta = (nsBase / ns.Value - 1) * 100;
                var (_, sd) = cost.SwitchDifferenceNs(r.Instr,
                    baseRow.Ping.SwitchSaves.MeanFeatures(), baseRow.Ping.SwitchRestores.MeanFeatures(),
                    r.Ping.SwitchSaves.MeanFeatures(), r.Ping.SwitchRestores.MeanFeatures());
                unc = sd / ns.Value * 100;
            }
            variants.Add(new VariantResult
            {
                Name = r.V.Name,
                Case = r.Case,
                TaskFpstateBytes = r.Shapes.Task.Size,
                VcpuFpstateBytes = r.Shapes.Vcpu.Size,
                XssCetS = (r.Sys.Xss & XFeatureMasks.CetKernel) != 0,
                TaskRfbmCetS = (r.Shapes.Task.Xfeatures & XFeatureMasks.CetKernel) != 0,
                SavedBytesPerSwitch = r.Ping.SavedBytesPerSwitch,
                RestoredBytesPerSwitch = r.Ping.RestoredBytesPerSwitch,
                VcpuSavedBytesPerSwitch = r.Vcpu.SavedBytesPerSwitch,
                VcpuRestoredBytesPerSwitch = r.Vcpu.RestoredBytesPerSwitch,
                PredictedNsPerSwitch = ns,
                PredictedThroughputDeltaPct = delta,
                PredictedThroughputDeltaUncertaintyPct = unc,
                Breakdown = cost is null ? null : PredictionBreakdown.Of(r.Ping, cost, r.Instr),
                WithinVariation = delta is { } d ? ClaimVerdicts.Within(d, unc ?? 0, threshold) : null,
                FpstateMemoryBytes = (long)o.Tasks * r.Shapes.Task.Size + (long)o.Vcpus * (r.Shapes.Task.Size + r.Shapes.Vcpu.Size),
                TaskLayout = Map(r.Sys, r.Shapes.Task),
                VcpuLayout = Map(r.Sys, r.Shapes.Vcpu),
                Memory = case3Cache is null ? null : TaskMemory.Of(r.Sys, r.Shapes, o.StructSizes!, o.Slub, case3Cache),
            });
        }

        MeasuredSummary? measured = o.Measured is { } mm
            ? new MeasuredSummary(mm.Median, mm.SpreadPct, mm.SwitchesPerSecond.Count, mm.Mode.ToString().ToLowerInvariant(),
                mm.State.ToString().ToLowerInvariant(), mm.SwitchesPerSecond)
            : null;
        var sweep = Sweep(o.Catalog ?? CpuCatalog.Entries, o.StructSizes, o.Slub);
        string? memoryBasis = null;
        if (o.StructSizes is { } sizes)
        {
            memoryBasis = $"struct sizes: task_struct {sizes.TaskStruct} B, fpu {sizes.Fpu} B, fpregs_state {sizes.FpregsState} B ({sizes.Source}); SLUB: {o.Slub.PresentCpus} present CPUs, slub_max_order {o.Slub.MaxOrder}, {o.Slub.CacheLineBytes}-byte alignment";
            if (variants.Count > 0 && variants.All(v => v.Memory is null))
                notes.Add("No task_struct slab figures: SLUB cannot place an object of this size.");
        }
        progress?.Report(1);
        var claims = Claims(cpu, variants, measured, o);
        if (o.ModifiedOptimization)
            notes.Add("Saves use XSAVES's modified optimisation (SDM Vol.1 §13.6): a component restored from the same buffer and not written since is not written again.");
        notes.Add(Cost.CostModel.XsavesEstimateText);
        return new CetSResult
        {
            Cpu = cpu.Name,
            CpuSource = cpu.Source,
            Tasks = o.Tasks,
            Vcpus = o.Vcpus,
            CostModel = o.CostModel is null ? null : o.CostModelSource ?? $"{o.CostModel.Machine} ({o.CostModel.CpuSignature})",
            SwitchFixedNs = fixedNs,
            VariationThresholdPct = threshold,
            Variants = variants,
            MemoryBasis = memoryBasis,
            Measured = measured,
            Sweep = sweep,
            Claims = claims,
            Notes = notes,
        };
    }

    /// <summary>Splits a measured time per switch into the modelled XSAVES+XRSTORS of the running kernel
    /// (6.17 behaviour, as in 6.18) on <paramref name="on"/> and the rest: the fixed per-switch part.</summary>
    public static (double FixedNs, double XferNs)? FixedPartNs(CostModel cost, ContextSwitchMeasurement m, CpuProfile on, bool modifiedOptimization = true)
    {
        if (m.Median <= 0)
            return null;
        var sys = FpuSystem.Boot(on, KernelVariants.V6_17);
        if (Simulator.Unsupported(sys) is not null)
            return null;
        var bare = new CostModel(cost.Parameters with { SwitchFixedNs = null });
        var s = RunPingPong(sys, bare, new CetSOptions { ModifiedOptimization = modifiedOptimization }, wide: m.State == VectorState.Wide);
        double xfer = (s.SwitchSaves.PredictedNs + s.SwitchRestores.PredictedNs) / Math.Max(1, s.Switches);
        return (Math.Max(0, 1e9 / m.Median - xfer), xfer);
    }

    private static XsaveCpuOptions CpuOptions(CetSOptions o) => new() { ModifiedOptimization = o.ModifiedOptimization };

    private static SimStats RunPingPong(FpuSystem sys, CostModel? cost, CetSOptions o, bool wide)
    {
        var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = 1, WideVectors = wide }, cost, CpuOptions(o));
        sim.Run(Math.Min(1000, o.SimulatedSwitches)); // warm: first returns to user restore fresh buffers
        var before = Snapshot(sim.Stats);
        sim.Run(o.SimulatedSwitches);
        return Delta(sim.Stats, before);
    }

    private static SimStats Snapshot(SimStats s) => Delta(s, new SimStats());

    private static SimStats Delta(SimStats now, SimStats before)
    {
        var d = new SimStats();
        d.Add(now, before);
        return d;
    }

    private static bool Same((KernelVariant V, string Case, FpuSystem Sys, SimStats Ping, SimStats Vcpu, FpuShapes Shapes, SaveInstruction Instr) a,
                             (KernelVariant V, string Case, FpuSystem Sys, SimStats Ping, SimStats Vcpu, FpuShapes Shapes, SaveInstruction Instr) b) =>
        a.Shapes.Task == b.Shapes.Task && a.Shapes.Vcpu == b.Shapes.Vcpu && a.Sys.Xss == b.Sys.Xss
        && a.Ping.SwitchSaves.Bytes == b.Ping.SwitchSaves.Bytes && a.Ping.SwitchRestores.Bytes == b.Ping.SwitchRestores.Bytes
        && a.Vcpu.SwitchSaves.Bytes == b.Vcpu.SwitchSaves.Bytes;

    /// <summary>Byte map of an fpstate buffer: legacy x87/SSE, the header, then each component at its
    /// <c>xfeature_get_offset()</c> place in the system's format.</summary>
    public static FpstateMap Map(FpuSystem sys, Kernel.Tasks.FpStateShape shape) =>
        FpstateMap.Create(sys.Profile, shape.Xfeatures, sys.Compacted, shape.Size);

    /// <summary>Every catalog CPU under case 1, case 2 and case 3: does CET_S exist, and what does case 2 save per task?</summary>
    /// <remarks>With <paramref name="sizes"/>, each row also says whether the 24 bytes change the task_struct
    /// slab: what case 2 really saves per task against case 3 (0 unless the object crosses a cache line into a
    /// slab with fewer objects).</remarks>
    public static IReadOnlyList<SweepRow> Sweep(IReadOnlyList<CatalogEntry> catalog, Kernel.Memory.TaskStructSizes? sizes = null, Kernel.Memory.SlubParams? slub = null)
    {
        var rows = new List<SweepRow>();
        foreach (var e in catalog)
        {
            var p = e.Profile;
            var s16 = FpuSystem.Boot(p, KernelVariants.V6_16);
            var s17 = FpuSystem.Boot(p, KernelVariants.V6_17);
            var s3 = FpuSystem.Boot(p, KernelVariants.Case3);
            if (!s17.XsaveEnabled)
            {
                rows.Add(new SweepRow(e.Name, e.Description, false, null, null, null, null, 0, "no XSAVE", "CPUID.1:ECX[26] clear or leaf 0xd absent: fixed legacy buffers"));
                continue;
            }
            bool cet = (s17.KernelCfg.MaxFeatures & XFeatureMasks.CetKernel) != 0;
            int saving = s3.KernelCfg.DefaultSize - s17.KernelCfg.DefaultSize;
            string verdict, why;
            if (!cet)
            {
                verdict = "CET_S absent";
                why = !p.Has(CpuFeature.Shstk) ? "no shadow stacks (CPUID.7.0:ECX[7])"
                    : (p.SupportedXss & XFeatureMasks.CetKernel) == 0 ? "IA32_XSS bit 12 not supported (CPUID.(0xd,1).ECX[12])"
                    : !s17.Caps.Xsaves ? "no XSAVES: supervisor state cannot be managed"
                    : "not enabled by the kernel";
            }
            else if (saving == 0)
            {
                verdict = "saving 0 (alignment)";
                int next = NextAligned(p, s3.KernelCfg.DefaultFeatures);
                why = next >= 0
                    ? $"{XFeatureTable.Get(next).ShortName} (component {next}) is 64-byte aligned: CET_S's 24 bytes fit in the padding before it"
                    : "CET_S fits in existing padding";
            }
            else
            {
                verdict = saving == 24 ? "24-byte saving holds" : $"saving is {saving} bytes";
                why = $"task fpstate {Numbers.Int(s17.KernelCfg.DefaultSize)} B (case 2) vs {Numbers.Int(s3.KernelCfg.DefaultSize)} B (case 3)";
            }
            var row = new SweepRow(e.Name, e.Description, cet, s16.KernelCfg.DefaultSize, s17.KernelCfg.DefaultSize, s3.KernelCfg.DefaultSize,
                FpuShapes.Of(s17).Vcpu.Size, saving, verdict, why);
            if (sizes is not null
                && Kernel.Memory.TaskStructCache.Of(s17, sizes, slub ?? Kernel.Memory.SlubParams.Default).Slab is { } c2
                && Kernel.Memory.TaskStructCache.Of(s3, sizes, slub ?? Kernel.Memory.SlubParams.Default).Slab is { } c3)
                row = row with { TaskSlabBytesCase2 = c2.SlabSize, TaskSlabBytesCase3 = c3.SlabSize, RealBytesSavedPerTask = c3.BytesPerObjectOver(c2) };
            rows.Add(row);
        }
        return rows;
    }

    private static int NextAligned(CpuProfile p, ulong features)
    {
        for (int i = 13; i < 63; i++)
            if ((features >> i & 1) != 0 && p.Component(i) is { Aligned64: true })
                return i;
        return -1;
    }

    private static IReadOnlyList<ClaimResult> Claims(CpuProfile cpu, List<VariantResult> v, MeasuredSummary? measured, CetSOptions o)
    {
        var claims = new List<ClaimResult>();
        var c1 = v.FirstOrDefault(x => x.Name == "6.16");
        var c2 = v.FirstOrDefault(x => x.Name == "6.17");
        var c3 = v.FirstOrDefault(x => x.Name == "case3");
        const string claim1 = "The performance differences in the three cases are very small and fall within the run-to-run variation.";
        if (c1 is null || c2 is null || c3 is null || c2.WithinVariation is null || c3.WithinVariation is null)
            claims.Add(new("within-variation", claim1, ClaimVerdict.Inconclusive, c1 is null ? $"{cpu.Name} has no XSAVE" : "no cost model: throughput not predicted"));
        else
        {
            double spread = measured?.RunToRunSpreadPct ?? ReportedVariationPct;
            string spreadSrc = measured is null ? $"the series' reported {ReportedVariationPct:F1} % (no measurement here)" : $"measured run-to-run spread {spread:F2} % ({measured.Runs} runs)";
            var verdict = ClaimVerdicts.All(c2.WithinVariation.Value, c3.WithinVariation.Value);
            string rule = verdict switch
            {
                ClaimVerdict.Confirmed => "both ±2σ bands lie inside ± the run-to-run variation",
                ClaimVerdict.NotConfirmed => "a ±2σ band lies wholly outside ± the run-to-run variation",
                _ => "a ±2σ band straddles the run-to-run variation: the cost model cannot decide",
            };
            claims.Add(new("within-variation", claim1, verdict, string.Create(CultureInfo.InvariantCulture,
                $"predicted change vs case 1: case 2 {c2.PredictedThroughputDeltaPct:+0.000;-0.000;0.000} ± {c2.PredictedThroughputDeltaUncertaintyPct:0.000} %, case 3 {c3.PredictedThroughputDeltaPct:+0.000;-0.000;0.000} ± {c3.PredictedThroughputDeltaUncertaintyPct:0.000} % (1σ); {spreadSrc}; {rule}; bytes written per switch {c1.SavedBytesPerSwitch:F0}/{c2.SavedBytesPerSwitch:F0}/{c3.SavedBytesPerSwitch:F0}, read {c1.RestoredBytesPerSwitch:F0}/{c2.RestoredBytesPerSwitch:F0}/{c3.RestoredBytesPerSwitch:F0} (cases 1/2/3)")));
        }
        const string claim2 = "Case 2 is preferred over case 3 because it saves 24B of CET-S space for all non-vCPU threads.";
        if (c2 is null || c3 is null)
            claims.Add(new("saves-24-bytes", claim2, ClaimVerdict.Inconclusive, $"{cpu.Name} has no XSAVE"));
        else
        {
            int saving = c3.TaskFpstateBytes - c2.TaskFpstateBytes;
            bool cet = c2.VcpuFpstateBytes != c2.TaskFpstateBytes || c3.TaskRfbmCetS;
            string ev = string.Create(CultureInfo.InvariantCulture,
                $"task fpstate {Numbers.Int(c2.TaskFpstateBytes)} B (case 2) vs {Numbers.Int(c3.TaskFpstateBytes)} B (case 3): {Numbers.Int(saving)} B per non-vCPU thread; vCPU guest fpstate {Numbers.Int(c2.VcpuFpstateBytes)} B in both; for {Numbers.Int(o.Tasks)} threads + {Numbers.Int(o.Vcpus)} vCPUs: {Numbers.Bytes(c2.FpstateMemoryBytes)} vs {Numbers.Bytes(c3.FpstateMemoryBytes)}");
            if (!c3.TaskRfbmCetS)
                ev += $"; {cpu.Name} has no CET_S, so there is nothing to save";
            claims.Add(new("saves-24-bytes", claim2, cet && saving == 24 ? ClaimVerdict.Confirmed : ClaimVerdict.NotConfirmed, ev));
        }
        return claims;
    }
}
