namespace XsaveLab.Host.Linux;

/// <summary>Starts a process with libc <c>posix_spawn</c>. System.Diagnostics.Process is avoided on
/// purpose: the runtime reaps its own children on SIGCHLD and would consume ptrace stop notifications
/// (docs/host-interfaces.md item 8). The caller owns the pid and must reap it.</summary>
internal static unsafe class NativeSpawn
{
    /// <summary>Returns (pid, 0) or (-1, error number from posix_spawn). The child starts with an empty
    /// signal mask and default dispositions, whatever the calling thread had, and with the runtime's
    /// diagnostics off (<see cref="ChildEnvironment"/>): a killed .NET child then leaves nothing in /tmp.</summary>
    public static (int Pid, int Error) Spawn(string path, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?>? environmentOverrides = null)
    {
        var argv = new List<string> { path };
        argv.AddRange(arguments);
        var env = new Dictionary<string, string?>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            env[(string)e.Key] = (string?)e.Value;
        foreach (var (k, v) in ChildEnvironment.Overrides)
            env[k] = v;
        if (environmentOverrides is not null)
            foreach (var (k, v) in environmentOverrides)
                env[k] = v;
        var envp = env.Where(kv => kv.Value is not null).Select(kv => $"{kv.Key}={kv.Value}").ToList();

        using var strings = new NativeStrings();
        byte** av = strings.Array(argv);
        byte** ev = strings.Array(envp);
        // glibc sizes: posix_spawnattr_t 336 bytes, sigset_t 128 bytes; generous buffers.
        byte* attr = (byte*)NativeMemory.AllocZeroed(1024);
        byte* sigset = (byte*)NativeMemory.AllocZeroed(256);
        byte* sigdef = (byte*)NativeMemory.AllocZeroed(256);
        try
        {
            Libc.posix_spawnattr_init(attr);
            Libc.sigemptyset(sigset);
            Libc.sigfillset(sigdef);
            Libc.posix_spawnattr_setsigmask(attr, sigset);
            Libc.posix_spawnattr_setsigdefault(attr, sigdef);
            Libc.posix_spawnattr_setflags(attr, Libc.PosixSpawnSetSigMask | Libc.PosixSpawnSetSigDef);
            int pid;
            int rc = Libc.posix_spawn(&pid, av[0], null, attr, av, ev);
            Libc.posix_spawnattr_destroy(attr);
            return rc == 0 ? (pid, 0) : (-1, rc);
        }
        finally
        {
            NativeMemory.Free(attr);
            NativeMemory.Free(sigset);
            NativeMemory.Free(sigdef);
        }
    }

    /// <summary>waitpid with __WALL, retried on EINTR. Returns (pid or 0 or -1, status, errno).</summary>
    public static (int Ret, WaitStatus Status, int Errno) Wait(int pid, bool noHang)
    {
        while (true)
        {
            int st = 0;
            int r = Libc.waitpid(pid, &st, Libc.WAll | (noHang ? Libc.WNoHang : 0));
            if (r < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                if (e == (int)Errno.EINTR)
                    continue;
                return (r, default, e);
            }
            return (r, new WaitStatus(st), 0);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a state change of <paramref name="pid"/>;
    /// null on timeout.</summary>
    public static WaitStatus? WaitFor(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        int sleepMs = 1;
        while (true)
        {
            var (r, status, e) = Wait(pid, noHang: true);
            if (r == pid)
                return status;
            if (r < 0)
                throw new InvalidOperationException($"waitpid({pid}) failed: {ErrnoNames.Name(e)}");
            if (DateTime.UtcNow >= deadline)
                return null;
            Thread.Sleep(sleepMs);
            sleepMs = Math.Min(sleepMs * 2, 20);
        }
    }

    /// <summary>SIGKILL and reap; safe to call on a pid that already exited but was not reaped.</summary>
    public static WaitStatus? KillAndReap(int pid)
    {
        Libc.kill(pid, Libc.SigKill);
        while (true)
        {
            var (r, status, e) = Wait(pid, noHang: false);
            if (r < 0)
                return e == (int)Errno.ECHILD ? null : throw new InvalidOperationException($"waitpid({pid}) failed: {ErrnoNames.Name(e)}");
            // A traced child may report further stops before its exit; keep waiting for the exit.
            if (status.Exited || status.Signaled)
                return status;
        }
    }
}
