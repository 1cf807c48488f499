namespace XsaveLab.Host.Linux;

/// <summary>One PTRACE_GETREGSET/SETREGSET call on a live child (the model answers with Kernel.Uabi.RegsetResult): return, errno, the iov_len the kernel left in the
/// iovec (the regset size for GET; unchanged for SET) and, for GET, the bytes it wrote.</summary>
public sealed record LiveRegsetResult(long Ret, int Errno, int Length, byte[] Data)
{
    public bool Ok => Ret == 0;

    public override string ToString() => Ok ? $"ok, {Length} bytes" : $"ret={Ret} {Linux.Errno.Name(Errno)}";
}
