namespace XsaveLab.Host.Linux;

/// <summary>The Linux errno values the FPU, ptrace and KVM interfaces return (asm-generic/errno-base.h,
/// errno.h).</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int E2BIG = 7;
    public const int ECHILD = 10;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ENOTTY = 25;
    public const int ENXIO = 6;
    public const int EOPNOTSUPP = 95;

    /// <summary>The symbolic name, or <c>errno N</c> for one not listed here.</summary>
    public static string Name(int errno) => errno switch
    {
        0 => "0",
        EPERM => "EPERM",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EIO => "EIO",
        ENXIO => "ENXIO",
        E2BIG => "E2BIG",
        ECHILD => "ECHILD",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        ENODEV => "ENODEV",
        EINVAL => "EINVAL",
        ENOTTY => "ENOTTY",
        ENOSPC => "ENOSPC",
        EOPNOTSUPP => "EOPNOTSUPP",
        _ => $"errno {errno}",
    };
}
