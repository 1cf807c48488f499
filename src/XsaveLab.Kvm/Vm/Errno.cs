namespace XsaveLab.Kvm.Vm;

/// <summary>The Linux errno values the modelled ioctls and syscalls return (include/uapi/asm-generic/errno-base.h).</summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    E2BIG = 7,
    EBADF = 9,
    ENOMEM = 12,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    EINVAL = 22,
    ENOSPC = 28,
    ENXIO = 6,
    ENOTTY = 25,
    EOPNOTSUPP = 95,
}

/// <summary>What a system call returned: a non-negative value or <c>-errno</c>. A value, never an exception.</summary>
public readonly record struct SysResult(long Value, Errno Error, string Detail = "")
{
    public bool Ok => Error == Errno.None;

    public static SysResult Success(long value = 0, string detail = "") => new(value, Errno.None, detail);
    public static SysResult Fail(Errno e, string detail) => new(-(long)e, e, detail);

    public override string ToString() => Ok
        ? (Detail.Length > 0 ? $"{Value} ({Detail})" : Value.ToString())
        : $"-{Error} ({Detail})";
}
