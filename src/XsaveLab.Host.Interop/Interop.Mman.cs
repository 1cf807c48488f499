namespace XsaveLab.Host.Interop;

/// <summary>mmap(2), mprotect(2), munmap(2) (include/uapi/asm-generic/mman-common.h).</summary>
internal static partial class Libc
{
    public const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    public const int MapPrivate = 0x02, MapAnonymous = 0x20;
    public static nint MapFailed => -1;

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int mprotect(nint addr, nuint length, int prot);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);
}
