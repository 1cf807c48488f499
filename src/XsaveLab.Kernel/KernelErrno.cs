namespace XsaveLab.Kernel;

/// <summary>The errno values the FPU core returns (include/uapi/asm-generic/errno-base.h, errno.h).
/// Results are returned negated, as the kernel does (<c>-EINVAL</c>).</summary>
public static class KernelErrno
{
    public const int EPERM = 1;
    public const int ENOMEM = 12;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int EOPNOTSUPP = 95;

    public static string Name(long result) => (-result) switch
    {
        0 => "0",
        EPERM => "-EPERM",
        ENOMEM => "-ENOMEM",
        EFAULT => "-EFAULT",
        EBUSY => "-EBUSY",
        EINVAL => "-EINVAL",
        ENOSPC => "-ENOSPC",
        EOPNOTSUPP => "-EOPNOTSUPP",
        _ => result.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
