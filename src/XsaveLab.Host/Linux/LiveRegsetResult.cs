namespace XsaveLab.Host.Linux;

/// <summary>One PTRACE_GETREGSET/SETREGSET call on a live child (the model answers with Kernel.Uabi.RegsetResult): return, errno, the iov_len the kernel left in the
/// iovec (the regset size for GET; unchanged for SET) and, for GET, the bytes it wrote.</summary>
public sealed record LiveRegsetResult(SysResult Result, int Length, byte[] Data)
{
    public bool Ok => Result.Ok;

    /// <summary>What ptrace(2) returned: 0, or -1.</summary>
    public long Ret => Ok ? Result.Value : -1;

    public Errno Errno => Result.Errno;

    public override string ToString() => Ok ? $"ok, {Length} bytes" : $"ret={Ret} {Result.Errno.Name()}";
}
