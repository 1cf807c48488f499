namespace XsaveLab.Kernel.Abi;

/// <summary>The Linux errno values any modelled or live interface returns (include/uapi/asm-generic/errno-base.h,
/// errno.h). <see cref="None"/> is success. System calls return them negated (<c>-EINVAL</c>).</summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    EBADF = 9,
    ECHILD = 10,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    EINVAL = 22,
    ENOTTY = 25,
    ENOSPC = 28,
    EOPNOTSUPP = 95,
}

/// <summary>How an errno is written: its symbolic name, and a raw system-call return as <c>0</c> or <c>-ENAME</c>.</summary>
public static class ErrnoNames
{
    /// <summary>The symbolic name (<c>EINVAL</c>), <c>0</c> for none, or <c>errno N</c> for a value not listed.</summary>
    public static string Name(this Errno e) => e == Errno.None ? "0"
        : Enum.IsDefined(e) ? e.ToString()
        : $"errno {(int)e}";

    /// <summary>The errno a libc call left (<c>errno</c> as an int), by name.</summary>
    public static string Name(int errno) => ((Errno)errno).Name();

    /// <summary>A kernel-style return value: the number itself when non-negative, else <c>-ENAME</c>.</summary>
    public static string Result(long ret) => ret >= 0
        ? ret.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : ret >= -int.MaxValue && Enum.IsDefined((Errno)(int)-ret) ? "-" + ((Errno)(int)-ret).Name()
        : ret.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The errno of a negative kernel return value (<see cref="Errno.None"/> for a non-negative one).</summary>
    public static Errno Of(long ret) => ret >= 0 ? Errno.None : (Errno)(int)Math.Min(-ret, int.MaxValue);
}
