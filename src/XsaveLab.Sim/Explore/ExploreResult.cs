using XsaveLab.Kvm;
using XsaveLab.Kvm.Caps;
using XsaveLab.Kvm.Guest;
using XsaveLab.Kvm.Vm;
namespace XsaveLab.Sim.Explore;

/// <summary>What to explore: the VMM process's settings (CPU, kernel variant, KVM release), the bound on trace
/// length, and the size of the system (tasks including the VMM thread, vCPUs).</summary>
public sealed record ExploreOptions(KvmSettings Settings, int Depth, int Tasks = 2, int Vcpus = 2)
{
    /// <summary>Largest accepted <see cref="Depth"/>: the state count grows exponentially with it.</summary>
    public const int MaxDepth = 12;

    /// <summary>Default <see cref="MemoryLimit"/>: 1 GiB of stored states.</summary>
    public const long DefaultMemoryLimit = 1L << 30;

    /// <summary>How a successor's parent state is obtained (the answers are the same either way).</summary>
    public ExploreMode Mode { get; init; } = ExploreMode.Copy;

    /// <summary>Bytes of frontier states <see cref="ExploreMode.Copy"/> keeps in memory (estimated as what copying
    /// them allocated); a state past the limit is rebuilt, when expanded, by replaying its path on a copy of the
    /// booted system.</summary>
    public long MemoryLimit { get; init; } = DefaultMemoryLimit;
}

/// <summary>How the explorer builds successors (docs/explore.md, "Speed").</summary>
public enum ExploreMode
{
    /// <summary>Keep each frontier state in memory and build each successor from a deep copy of it
    /// (<see cref="XsaveLab.Kvm.Script.VmmRunner.Clone()"/>): one action per transition.</summary>
    Copy,

    /// <summary>Rebuild every successor by replaying its whole path from boot on a new VMM process (the reference
    /// the copying explorer is tested against).</summary>
    Replay,
}

/// <summary>A counterexample: the first (shortest) trace that breaks an invariant, and the script that replays it.</summary>
/// <param name="Invariant">The invariant's id.</param>
/// <param name="Rule">The kernel rule it comes from.</param>
/// <param name="Detail">What was found in the violating state.</param>
/// <param name="Trace">The actions from boot, in order.</param>
/// <param name="Script">A <c>kvm --vmm</c> script replaying the trace and checking the invariants at the end.</param>
public sealed record ExploreViolation(string Invariant, string Rule, string Detail, IReadOnlyList<string> Trace, string Script);

/// <summary>The outcome of an exploration.</summary>
/// <param name="StatesPerDepth">Distinct states first reached at each depth (index 0: the booted system).</param>
/// <param name="Seconds">Wall time (a measurement: differs between runs).</param>
public sealed record ExploreResult(string Kernel, string Cpu, string Kvm, int Depth, int Tasks, int Vcpus, int Actions,
    long States, IReadOnlyList<long> StatesPerDepth, long Transitions, double Seconds, IReadOnlyList<ExploreViolation> Violations)
{
    /// <summary>Distinct states per second of wall time.</summary>
    public double StatesPerSecond => Seconds > 0 ? States / Seconds : 0;
}
