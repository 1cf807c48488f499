namespace XsaveLab.Kvm.Script;

/// <summary>One executed line: the call, its result (value or errno), a readable account, what the guest did, and
/// the check of an <c>expect</c> line or a guest <c>=&gt;</c> when there was one.</summary>
public sealed record KvmStep(int Line, string Ioctl, string Args, SysResult Result, string Text,
    IReadOnlyList<GuestOutcome> Guest, string? Expect = null, bool? ExpectMet = null)
{
    /// <summary>The call succeeded but left state in the wrong registers (a restore onto another layout): the
    /// components named, or null.</summary>
    public string? Corruption { get; init; }

    /// <summary>The result as reports show it (<see cref="SysResult.Text"/>): a number, or <c>-ERRNO</c>.</summary>
    public string ResultText => Result.Text;

    /// <summary>What the call wrote to the caller's memory when that, not the return value, is its answer (the
    /// mask of <c>arch_prctl(ARCH_GET_XCOMP_SUPP)</c>, the entry count of <c>KVM_GET_SUPPORTED_CPUID</c>, the size
    /// of a <c>KVM_GET_XSAVE2</c> image); null for calls whose return value is the answer.</summary>
    public long? Output { get; init; }

    /// <summary><see cref="Output"/> as reports print it: hex for a feature mask, decimal for a count or size.</summary>
    public string? OutputText { get; init; }

    public bool Failed => ExpectMet == false || Guest.Any(g => g.ExpectationFailure is not null) || Corruption is not null;
}
