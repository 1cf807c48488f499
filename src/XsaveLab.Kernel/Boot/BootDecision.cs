namespace XsaveLab.Kernel.Boot;

/// <summary>One place where a boot left the default path: a feature dropped or not used, and why.</summary>
/// <param name="Subject">What is affected: a CPU feature (<c>XSAVES</c>) or a state component (<c>PKRU</c>).</param>
/// <param name="Outcome">What the kernel did with it (<c>dropped</c>, <c>cleared</c>, <c>not used</c>, …).</param>
/// <param name="Reason">Why: the missing CPUID bit, the erratum, the boot option, the mask.</param>
/// <param name="Function">The kernel function that decides it.</param>
/// <param name="Dropped">Something the CPU offers is not used: also reported as a warning.</param>
public sealed record BootDecision(string Subject, string Outcome, string Reason, string Function, bool Dropped)
{
    /// <summary>One line: <c>PKRU dropped: CPUID.(EAX=07H,ECX=0):ECX.PKU[bit 3] = 0 (fpu__init_system_xstate())</c>.</summary>
    public override string ToString() => $"{Subject} {Outcome}: {Reason} ({Function})";
}
