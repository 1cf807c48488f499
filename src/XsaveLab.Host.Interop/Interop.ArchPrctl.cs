namespace XsaveLab.Host.Interop;

/// <summary>arch_prctl(2), which glibc does not wrap: reached through <c>syscall(SYS_arch_prctl, …)</c>
/// (arch/x86/entry/syscalls/syscall_64.tbl: 158).</summary>
internal static partial class Libc
{
    public const long SysArchPrctl = 158;

    [LibraryImport(Library, SetLastError = true)]
    public static partial long syscall(long number, long a1, nint a2);
}
