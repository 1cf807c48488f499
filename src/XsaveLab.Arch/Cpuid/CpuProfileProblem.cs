namespace XsaveLab.Arch.Cpuid;

/// <summary>Why a profile is refused: the CPUID leaf whose value breaks a bound, and one sentence.</summary>
/// <param name="Leaf">The leaf that holds the offending value.</param>
/// <param name="Subleaf">Its sub-leaf.</param>
/// <param name="Message">What is wrong, naming the register and the bound.</param>
public sealed record CpuProfileProblem(uint Leaf, uint Subleaf, string Message)
{
    public override string ToString() => Message;
}
