namespace XsaveLab.Sim.Measure;

/// <summary>Close-on-exec pipes between a measurement and its child, numbered high so that dup2 into the
/// child's low fd numbers never collides with them.</summary>
internal static unsafe class Pipes
{
    /// <summary>A close-on-exec pipe whose ends are numbered at least <paramref name="minFd"/>.</summary>
    public static (int Read, int Write) Open(int minFd = 100)
    {
        int* fds = stackalloc int[2];
        if (Libc.pipe2(fds, Libc.OCloexec) != 0)
            throw new IOException($"pipe2 failed: {ErrnoNames.Name(Marshal.GetLastPInvokeError())}");
        int r = MoveUp(fds[0], minFd), w = MoveUp(fds[1], minFd);
        return (r, w);
    }

    /// <summary>Reads one byte, waiting at most <paramref name="timeoutMs"/>; false on timeout, EOF or error.</summary>
    public static bool ReadByteWithin(int fd, int timeoutMs, out byte value)
    {
        value = 0;
        var pfd = new Libc.PollFd { Fd = fd, Events = Libc.PollIn };
        long deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int left = (int)Math.Max(0, deadline - Environment.TickCount64);
            int r = Libc.poll(&pfd, 1, left);
            if (r > 0)
                break;
            if (r == 0 || Marshal.GetLastPInvokeError() != (int)Errno.EINTR || left == 0)
                return false;
        }
        byte b;
        if (Libc.read(fd, &b, 1) != 1)
            return false;
        value = b;
        return true;
    }

    private static int MoveUp(int fd, int minFd)
    {
        if (fd >= minFd)
            return fd;
        int n = Libc.fcntl(fd, Libc.FDupfdCloexec, minFd);
        int err = Marshal.GetLastPInvokeError();
        Libc.close(fd);
        if (n < 0)
            throw new IOException($"fcntl(F_DUPFD_CLOEXEC) failed: {ErrnoNames.Name(err)}");
        return n;
    }
}
