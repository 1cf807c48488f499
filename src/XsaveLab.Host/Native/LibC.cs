using System.Runtime.InteropServices;

namespace XsaveLab.Host.Native;

/// <summary>The few libc entry points the native stubs need.</summary>
/// <remarks>Integer results are declared <c>int</c> where libc returns <c>int</c>: declaring them <c>long</c>
/// turns -1 into 4294967295 (observed with <c>ioctl</c>).</remarks>
internal static partial class LibC
{
    public const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    public const int MapPrivate = 0x02, MapAnonymous = 0x20;
    public static readonly nint MapFailed = -1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(nint addr, nuint length, int prot);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);
}
