namespace XsaveLab.Kernel.Uabi;

/// <summary>Outcome of PTRACE_GETREGSET / PTRACE_SETREGSET: the call's result (with the rule that decided it), the
/// iov_len written back, and for GET the bytes returned.</summary>
public readonly record struct RegsetResult(SysResult Result, int IovLen, byte[] Data)
{
    public bool Ok => Result.Ok;
    public Errno Errno => Result.Errno;
    public string Rule => Result.Rule;
}
