namespace XsaveLab.Host.Interop;

/// <summary>open(2), close(2), chdir(2), pipe2(2), fcntl(2), read(2), write(2) and poll(2).</summary>
internal static unsafe partial class Libc
{
    public const int ORdonly = 0;
    public const int ORdwr = 2;
    public const int ONonblock = 0x800;
    public const int OCloexec = 0x80000;
    public const int FDupfdCloexec = 1030;
    public const short PollIn = 1;

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial SafeFdHandle open(string path, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chdir(string path);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nuint count);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint read(SafeFdHandle fd, byte* buf, nuint count);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nuint count);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeoutMs);

    /// <summary>struct pollfd.</summary>
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
