using System.Runtime.InteropServices;

namespace XsaveLab.Host.Linux;

/// <summary>The libc entry points the live-kernel layer uses. Every call that can fail sets errno,
/// read with <see cref="Marshal.GetLastPInvokeError"/> right after the call.</summary>
/// <remarks>C <c>ioctl</c> and <c>waitpid</c> return <c>int</c>: declaring them <c>long</c> turns -1 into
/// 4294967295. Signatures follow glibc x86-64.</remarks>
internal static unsafe partial class Libc
{
    public const long SysArchPrctl = 158;

    [DllImport("libc", SetLastError = true)]
    public static extern long syscall(long number, long a1, nint a2);

    [DllImport("libc", SetLastError = true)]
    public static extern ulong getauxval(ulong type);

    [DllImport("libc", SetLastError = true)]
    public static extern long sysconf(int name);

    [DllImport("libc", SetLastError = true)]
    public static extern long ptrace(long request, int pid, nint addr, nint data);

    [DllImport("libc", SetLastError = true)]
    public static extern int waitpid(int pid, int* status, int options);

    [DllImport("libc", SetLastError = true)]
    public static extern int kill(int pid, int sig);

    [DllImport("libc", SetLastError = true)]
    public static extern int gettid();

    [DllImport("libc", SetLastError = true)]
    public static extern int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [DllImport("libc", SetLastError = true)]
    public static extern int posix_spawnattr_init(void* attr);

    [DllImport("libc", SetLastError = true)]
    public static extern int posix_spawnattr_destroy(void* attr);

    [DllImport("libc", SetLastError = true)]
    public static extern int posix_spawnattr_setflags(void* attr, short flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int posix_spawnattr_setsigmask(void* attr, void* sigmask);

    [DllImport("libc", SetLastError = true)]
    public static extern int posix_spawnattr_setsigdefault(void* attr, void* sigdefault);

    [DllImport("libc", SetLastError = true)]
    public static extern int sigemptyset(void* set);

    [DllImport("libc", SetLastError = true)]
    public static extern int sigfillset(void* set);

    [DllImport("libc", SetLastError = true)]
    public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int ioctl(int fd, ulong request, nint arg);

    [DllImport("libc", SetLastError = true)]
    public static extern int getrlimit(int resource, ulong* rlim);

    [DllImport("libc", SetLastError = true)]
    public static extern int setrlimit(int resource, ulong* rlim);

    [DllImport("libc", SetLastError = true)]
    public static extern int chdir([MarshalAs(UnmanagedType.LPUTF8Str)] string path);




    /// <summary>struct iovec, as PTRACE_GETREGSET/SETREGSET take it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Iovec
    {
        public void* Base;
        public nuint Len;
    }
}
