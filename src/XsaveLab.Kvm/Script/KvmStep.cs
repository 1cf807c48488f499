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

    public bool Failed => ExpectMet == false || Guest.Any(g => g.ExpectationFailure is not null) || Corruption is not null;
}
