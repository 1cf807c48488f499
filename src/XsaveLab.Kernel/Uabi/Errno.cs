namespace XsaveLab.Kernel.Uabi;

/// <summary>Linux errno values returned by the user-ABI paths (include/uapi/asm-generic/errno-base.h,
/// errno.h). Zero is success. Values, never exceptions, at the model boundary.</summary>
public enum UabiErrno
{
    None = 0,
    Eperm = 1,
    Eio = 5,
    Enomem = 12,
    Efault = 14,
    Ebusy = 16,
    Enodev = 19,
    Einval = 22,
    Enospc = 28,
    Eopnotsupp = 95,
}

/// <summary>An errno together with the kernel rule that produced it (for reports and test messages).</summary>
public readonly record struct UabiResult(UabiErrno Errno, string Rule)
{
    public static readonly UabiResult Ok = new(UabiErrno.None, "ok");

    public bool Success => Errno == UabiErrno.None;

    public static UabiResult Fail(UabiErrno errno, string rule) => new(errno, rule);

    public override string ToString() => Success ? "0" : $"-{Errno.ToString().ToUpperInvariant()} ({Rule})";
}
