namespace XsaveLab.Kernel.Uabi;

/// <summary>Outcome of PTRACE_GETREGSET / PTRACE_SETREGSET: the errno, the iov_len written back on success, and
/// for GET the bytes returned.</summary>
public readonly record struct RegsetResult(UabiErrno Errno, int IovLen, string Rule, byte[] Data)
{
    public bool Success => Errno == UabiErrno.None;
}
