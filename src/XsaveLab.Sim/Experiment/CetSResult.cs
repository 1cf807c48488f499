namespace XsaveLab.Sim.Experiment;

/// <summary>One component's place in an fpstate buffer (for byte maps).</summary>
public sealed record FpstateSegment(int Component, string Name, int Offset, int Size, bool Supervisor);

/// <summary>An fpstate buffer: size, xfeatures and component placement (legacy region and header included
/// as components 0/1 and a header pseudo-segment numbered -1).</summary>
public sealed record FpstateMap(int Size, string Xfeatures, bool Compacted, IReadOnlyList<FpstateSegment> Segments)
{
    /// <summary>Byte map of a <paramref name="size"/>-byte buffer holding <paramref name="xfeatures"/> in the standard or
    /// compacted format: legacy x87/SSE, the header, then each component at its <c>xfeature_get_offset()</c> place
    /// (<see cref="XStateLayout"/>).</summary>
    public static FpstateMap Create(CpuProfile cpu, ulong xfeatures, bool compacted, int size)
    {
        var layout = XStateLayout.Create(cpu, xfeatures, compacted);
        var segs = new List<FpstateSegment>
        {
            new(0, XFeatureTable.Get(0).ShortName, 0, 160, false),
            new(1, XFeatureTable.Get(1).ShortName, 160, 352, false),
            new(-1, "header", XsaveOffsets.Header, XsaveOffsets.HeaderSize, false),
        };
        foreach (var p in layout.Components)
            if (p.Number >= 2)
                segs.Add(new FpstateSegment(p.Number, p.Info.ShortName, p.Offset, p.Size, p.Component.Supervisor));
        return new FpstateMap(size, $"0x{xfeatures:x}", compacted, segs);
    }
}

/// <summary>One kernel variant's numbers.</summary>
public sealed record VariantResult
{
    public required string Name { get; init; }

    /// <summary>The series' label: "case 1" (6.16), "case 2" (6.17), "case 3", or a description.</summary>
    public required string Case { get; init; }

    public required int TaskFpstateBytes { get; init; }
    public required int VcpuFpstateBytes { get; init; }

    /// <summary>IA32_XSS[12] programmed at boot.</summary>
    public required bool XssCetS { get; init; }

    /// <summary>Host tasks' xfeatures (the XSAVES RFBM) include CET_S.</summary>
    public required bool TaskRfbmCetS { get; init; }

    /// <summary>Bytes written by the save of an outgoing context_switch1 task, per switch (counted).</summary>
    public required double SavedBytesPerSwitch { get; init; }

    /// <summary>Bytes read by the restore of the incoming task, per switch (counted).</summary>
    public required double RestoredBytesPerSwitch { get; init; }

    /// <summary>Same, for vCPU threads preempted inside KVM_RUN (their guest fpstate is switched).</summary>
    public required double VcpuSavedBytesPerSwitch { get; init; }
    public required double VcpuRestoredBytesPerSwitch { get; init; }

    /// <summary>Fixed part + predicted XSAVES + XRSTORS, ns; null without a cost model.</summary>
    public double? PredictedNsPerSwitch { get; init; }

    /// <summary>Predicted context_switch1 throughput change against case 1 (6.16), %.</summary>
    public double? PredictedThroughputDeltaPct { get; init; }

    /// <summary>One standard deviation of that change from the cost-model fit, %.</summary>
    public double? PredictedThroughputDeltaUncertaintyPct { get; init; }

    /// <summary>Where <see cref="PredictedNsPerSwitch"/> comes from, term by term; null without a cost model.</summary>
    public PredictionBreakdown? Breakdown { get; init; }

    /// <summary>Is this variant's change against case 1 inside the run-to-run threshold
    /// (<see cref="CetSResult.VariationThresholdPct"/>)? Decided as the claim is: the whole ±2σ band inside, the
    /// whole band outside, or straddling (inconclusive); null without a prediction.</summary>
    public ClaimVerdict? WithinVariation { get; init; }

    /// <summary>fpstate memory for the experiment's N threads + M vCPUs (a vCPU thread holds its task
    /// fpstate and a guest fpstate).</summary>
    public required long FpstateMemoryBytes { get; init; }

    public required FpstateMap TaskLayout { get; init; }
    public required FpstateMap VcpuLayout { get; init; }

    /// <summary>The task_struct slab object and fpstate pages; null without struct sizes (BTF or given).</summary>
    public TaskMemory? Memory { get; init; }
}

/// <summary>The real measurement the predictions are compared with.</summary>
public sealed record MeasuredSummary(double SwitchesPerSecond, double RunToRunSpreadPct, int Runs, string Mode, string VectorState, IReadOnlyList<double> Samples);

/// <summary>One catalog CPU in the sweep.</summary>
public sealed record SweepRow(
    string Cpu,
    string Description,
    bool HasCetS,
    int? TaskBytesCase1,
    int? TaskBytesCase2,
    int? TaskBytesCase3,
    int? VcpuBytesCase2,
    int SavingBytes,
    string Verdict,
    string Why)
{
    /// <summary>The task_struct slab stride under case 2 and case 3 for the experiment's struct sizes; null without them.</summary>
    public int? TaskSlabBytesCase2 { get; init; }

    public int? TaskSlabBytesCase3 { get; init; }

    /// <summary>Slab bytes per task of case 3 minus case 2: what the 24 bytes really save on this CPU.</summary>
    public double? RealBytesSavedPerTask { get; init; }
}

/// <summary>A claim of the series' cover letter checked against the numbers.</summary>
/// <param name="Verdict">Confirmed, not confirmed, or inconclusive when the prediction's ±2σ band straddles the
/// threshold (or nothing was predicted).</param>
public sealed record ClaimResult(string Id, string Claim, ClaimVerdict Verdict, string Evidence)
{
    /// <summary>true / false for a decided claim, null when inconclusive (kept for readers of the older key).</summary>
    public bool? Confirmed => Verdict switch { ClaimVerdict.Confirmed => true, ClaimVerdict.NotConfirmed => false, _ => null };

    /// <summary>The verdict as printed: CONFIRMED, NOT CONFIRMED or INCONCLUSIVE.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Label => Verdict.Label();
}

/// <summary>The whole experiment, independent of how it is rendered.</summary>
public sealed record CetSResult
{
    public required string Cpu { get; init; }
    public required string CpuSource { get; init; }
    public required int Tasks { get; init; }
    public required int Vcpus { get; init; }

    /// <summary>Where the cost-model parameters come from (machine and how), or null.</summary>
    public string? CostModel { get; init; }

    /// <summary>Fixed per-switch ns used in predictions and where it comes from.</summary>
    public double? SwitchFixedNs { get; init; }

    /// <summary>The run-to-run variation a predicted change is compared with, % (measured spread, or the
    /// series' reported figure).</summary>
    public double VariationThresholdPct { get; init; }

    public required IReadOnlyList<VariantResult> Variants { get; init; }

    /// <summary>Where the struct sizes of the memory figures come from, with the SLUB inputs; null without them.</summary>
    public string? MemoryBasis { get; init; }

    public MeasuredSummary? Measured { get; init; }
    public required IReadOnlyList<SweepRow> Sweep { get; init; }
    public required IReadOnlyList<ClaimResult> Claims { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Why a figure of this run may be unreliable (a loaded machine, a wide spread), with how to get a
    /// quiet run; empty when nothing was measured or nothing is wrong.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
