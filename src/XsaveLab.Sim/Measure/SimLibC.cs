using System.Runtime.InteropServices;

namespace XsaveLab.Sim.Measure;

/// <summary>The libc calls the real ping-pong needs (pipes, affinity, spawning and reaping a child).</summary>
/// <remarks>Results are <c>int</c> where libc returns <c>int</c>; errno is read with
/// <see cref="Marshal.GetLastPInvokeError"/>.</remarks>
internal static unsafe partial class SimLibC
{
    public const int OCloexec = 0x80000;
    public const int FDupfdCloexec = 1030;
    public const int WNoHang = 1;
    public const int SigKill = 9;
    public const int Eintr = (int)XsaveLab.Kernel.Abi.Errno.EINTR, Echild = (int)XsaveLab.Kernel.Abi.Errno.ECHILD;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nuint count);

    /// <summary>pid 0 = the calling thread (Linux affinity is per thread).</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sched_getaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sched_getcpu();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeoutMs);

    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public const short PollIn = 1;

    /// <summary>Reads one byte, waiting at most <paramref name="timeoutMs"/>; false on timeout, EOF or error.</summary>
    public static bool ReadByteWithin(int fd, int timeoutMs, out byte value)
    {
        value = 0;
        var pfd = new PollFd { Fd = fd, Events = PollIn };
        long deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int left = (int)Math.Max(0, deadline - Environment.TickCount64);
            int r = poll(&pfd, 1, left);
            if (r > 0)
                break;
            if (r == 0 || Marshal.GetLastPInvokeError() != Eintr || left == 0)
                return false;
        }
        byte b;
        if (read(fd, &b, 1) != 1)
            return false;
        value = b;
        return true;
    }

    /// <summary>Pins the calling thread to one CPU; returns 0 or errno.</summary>
    public static int PinCurrentThread(int cpu)
    {
        if (cpu < 0 || cpu >= 1024)
            return 22;
        ulong* mask = stackalloc ulong[16];
        for (int i = 0; i < 16; i++)
            mask[i] = 0;
        mask[cpu / 64] = 1UL << (cpu % 64);
        return sched_setaffinity(0, 16 * sizeof(ulong), mask) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>CPUs the calling thread may run on.</summary>
    public static int[] AllowedCpus()
    {
        ulong* mask = stackalloc ulong[16];
        if (sched_getaffinity(0, 16 * sizeof(ulong), mask) != 0)
            return [];
        var cpus = new List<int>();
        for (int i = 0; i < 1024; i++)
            if ((mask[i / 64] >> (i % 64) & 1) != 0)
                cpus.Add(i);
        return cpus.ToArray();
    }

    /// <summary>A close-on-exec pipe whose ends are numbered at least <paramref name="minFd"/>.</summary>
    public static (int Read, int Write) Pipe(int minFd = 100)
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, OCloexec) != 0)
            throw new IOException($"pipe2 failed: errno {Marshal.GetLastPInvokeError()}");
        int r = MoveUp(fds[0], minFd), w = MoveUp(fds[1], minFd);
        return (r, w);
    }

    private static int MoveUp(int fd, int minFd)
    {
        if (fd >= minFd)
            return fd;
        int n = fcntl(fd, FDupfdCloexec, minFd);
        int err = Marshal.GetLastPInvokeError();
        close(fd);
        if (n < 0)
            throw new IOException($"fcntl(F_DUPFD_CLOEXEC) failed: errno {err}");
        return n;
    }
}
