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
