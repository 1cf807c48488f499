namespace XsaveLab.Sim.Workload;

/// <summary>Counters of one kind of FPU transfer.</summary>
public sealed class XferTotals
{
    public long Count { get; internal set; }
    public long Bytes { get; internal set; }
    public long Components { get; internal set; }

    /// <summary>Sum of |RFBM| over the operations.</summary>
    public long Requested { get; internal set; }
    public double PredictedNs { get; internal set; }
    internal void Add(XferTotals now, XferTotals before)
    {
        Count += now.Count - before.Count;
        Bytes += now.Bytes - before.Bytes;
        Components += now.Components - before.Components;
        Requested += now.Requested - before.Requested;
        PredictedNs += now.PredictedNs - before.PredictedNs;
    }

    public double BytesPerOp => Count == 0 ? 0 : (double)Bytes / Count;

    /// <summary>Average cost-model features per operation: [1, |RFBM|, components moved, bytes].</summary>
    public double[] MeanFeatures() => Count == 0 ? [0, 0, 0, 0] : [1, (double)Requested / Count, (double)Components / Count, (double)Bytes / Count];
}

/// <summary>What a simulation did. Bytes are counted from what each modelled instruction wrote or read.</summary>
public sealed class SimStats
{
    /// <summary>Context switches between two different tasks (idle excluded).</summary>
    public long Switches { get; internal set; }

    /// <summary>context_switch1 iterations: 2 per completed round trip, as will-it-scale counts.</summary>
    public long PingPongIterations { get; internal set; }

    /// <summary>XSAVES (or the booted save instruction) in <c>switch_fpu()</c>.</summary>
    public XferTotals SwitchSaves { get; } = new();

    /// <summary>XRSTORS in <c>fpregs_restore_userregs()</c> on the way back to user or guest.</summary>
    public XferTotals SwitchRestores { get; } = new();

    /// <summary>Saves and restores of <c>fpu_swap_kvm_fpstate()</c> around KVM_RUN.</summary>
    public XferTotals GuestSwapSaves { get; } = new();
    public XferTotals GuestSwapRestores { get; } = new();

    public long VcpuExits { get; internal set; }

    /// <summary>Restores skipped because the registers still held the task's state (<c>fpregs_state_valid()</c>).</summary>
    public long RestoresSkipped { get; internal set; }

    /// <summary>Simulated time (max over CPUs), ns.</summary>
    public double SimulatedNs { get; internal set; }

    /// <summary>Non-zero fault kinds raised by the model's instructions (should stay 0).</summary>
    public long Faults { get; internal set; }
    public string? FirstFault { get; internal set; }

    /// <summary>this += now − before (a window of a longer run).</summary>
    internal void Add(SimStats now, SimStats before)
    {
        Switches += now.Switches - before.Switches;
        PingPongIterations += now.PingPongIterations - before.PingPongIterations;
        SwitchSaves.Add(now.SwitchSaves, before.SwitchSaves);
        SwitchRestores.Add(now.SwitchRestores, before.SwitchRestores);
        GuestSwapSaves.Add(now.GuestSwapSaves, before.GuestSwapSaves);
        GuestSwapRestores.Add(now.GuestSwapRestores, before.GuestSwapRestores);
        VcpuExits += now.VcpuExits - before.VcpuExits;
        RestoresSkipped += now.RestoresSkipped - before.RestoresSkipped;
        SimulatedNs += now.SimulatedNs - before.SimulatedNs;
        Faults += now.Faults - before.Faults;
        FirstFault ??= now.FirstFault;
        FixedNs += now.FixedNs - before.FixedNs;
    }

    /// <summary>Sum of the fixed per-switch parts charged.</summary>
    public double FixedNs { get; internal set; }

    public double SavedBytesPerSwitch => Switches == 0 ? 0 : (double)SwitchSaves.Bytes / Switches;
    public double RestoredBytesPerSwitch => Switches == 0 ? 0 : (double)SwitchRestores.Bytes / Switches;

    /// <summary>Predicted ns per context switch: fixed part + the counted saves and restores.</summary>
    public double PredictedNsPerSwitch => Switches == 0 ? 0 : (FixedNs + SwitchSaves.PredictedNs + SwitchRestores.PredictedNs) / Switches;

    /// <summary>context_switch1 iterations per simulated second (all pairs together).</summary>
    public double PredictedIterationsPerSecond => SimulatedNs <= 0 ? 0 : PingPongIterations / (SimulatedNs / 1e9);
}

/// <summary>Memory a simulation holds for its tasks.</summary>
public sealed record SimMemory(int Tasks, long FpstateBytes, long TaskTableBytes, long TaskFpstateBytes, long VcpuFpstateBytes)
{
    public double BytesPerTask => Tasks == 0 ? 0 : (double)(FpstateBytes + TaskTableBytes) / Tasks;
}
