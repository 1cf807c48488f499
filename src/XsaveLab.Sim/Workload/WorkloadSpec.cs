namespace XsaveLab.Sim.Workload;

/// <summary>The scripted tasks of a simulation. Task i of each kind is placed on CPU i mod <see cref="Cpus"/>
/// (will-it-scale pins task i to CPU i; a <c>context_switch1</c> partner inherits its parent's CPU).</summary>
public sealed record WorkloadSpec
{
    public int Cpus { get; init; } = 1;

    /// <summary><c>context_switch1 -t N</c>: N pairs ping-ponging one byte over two pipes.</summary>
    public int PingPongPairs { get; init; } = 1;

    /// <summary>Threads or processes; the FPU work is the same, the fixed per-switch cost differs.</summary>
    public PingPongMode Mode { get; init; } = PingPongMode.Threads;

    /// <summary>Ping-pong tasks hold AVX/AVX-512 state (XINUSE set) besides x87/SSE (and PKRU where enabled).</summary>
    public bool WideVectors { get; init; }

    /// <summary>vCPU threads: KVM_RUN loops with guest state.</summary>
    public int Vcpus { get; init; }

    /// <summary>Guest run time per scheduling slice before the vCPU thread is preempted.</summary>
    public double VcpuSliceNs { get; init; } = 100_000;

    /// <summary>Exits to the VMM (KVM_RUN returns: the guest FPU is swapped out and back in).</summary>
    public double VcpuExitsPerSecond { get; init; } = 10_000;

    /// <summary>The guest has CET supervisor state in use (PL0..2_SSP non-zero).</summary>
    public bool GuestUsesCet { get; init; } = true;

    /// <summary>Tasks that requested AMX and use tiles (on CPUs without AMX they are plain compute tasks).</summary>
    public int AmxUsers { get; init; }

    public double AmxSliceNs { get; init; } = 50_000;

    /// <summary>Sleeping tasks: they hold an fpstate but never run.</summary>
    public int IdleTasks { get; init; }

    public void Validate()
    {
        if (Cpus is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(Cpus), Cpus, "1..4096");
        if (PingPongPairs is < 0 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(PingPongPairs), PingPongPairs, "0..1000000");
        if (Vcpus is < 0 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(Vcpus), Vcpus, "0..1000000");
        if (AmxUsers is < 0 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(AmxUsers), AmxUsers, "0..1000000");
        if (IdleTasks is < 0 or > 10_000_000) throw new ArgumentOutOfRangeException(nameof(IdleTasks), IdleTasks, "0..10000000");
        if (!(VcpuSliceNs > 0) || !(AmxSliceNs > 0)) throw new ArgumentOutOfRangeException(nameof(VcpuSliceNs), "slices must be > 0");
        if (!(VcpuExitsPerSecond >= 0)) throw new ArgumentOutOfRangeException(nameof(VcpuExitsPerSecond), "must be ≥ 0");
    }

    public int TotalTasks => 2 * PingPongPairs + Vcpus + AmxUsers + IdleTasks;
}
