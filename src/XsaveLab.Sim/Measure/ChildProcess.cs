namespace XsaveLab.Sim.Measure;

/// <summary>A child started with libc <c>posix_spawn</c> (not <see cref="System.Diagnostics.Process"/>, whose
/// SIGCHLD handling would race our <c>waitpid</c>), with chosen fds dup'ed to fixed numbers. Always reaped.</summary>
internal sealed unsafe class ChildProcess : IDisposable
{
    private ChildProcess(int pid) => Pid = pid;

    public int Pid { get; }
    public int? ExitStatus { get; private set; }

    /// <param name="path">Executable.</param>
    /// <param name="argv">Arguments including argv[0].</param>
    /// <param name="dups">(fd in this process, fd number in the child).</param>
    public static ChildProcess Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<(int From, int To)> dups)
    {
        // The runtime's diagnostic IPC would leave dotnet-diagnostic-*/clr-debug-pipe-* entries in /tmp when the
        // child is killed: the measurement child runs with it off.
        var env = new List<string> { $"{ChildEnvironment.DiagnosticsVariable}=0" };
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            if ((string)e.Key != ChildEnvironment.DiagnosticsVariable)
                env.Add($"{e.Key}={e.Value}");
        using var strings = new NativeStrings();
        byte** argvp = strings.Array(argv);
        byte** envp = strings.Array(env);
        void* actions = NativeMemory.AllocZeroed(256);
        try
        {
            Libc.posix_spawn_file_actions_init(actions);
            foreach (var (from, to) in dups)
                if (Libc.posix_spawn_file_actions_adddup2(actions, from, to) != 0)
                    throw new IOException("posix_spawn_file_actions_adddup2 failed");
            int pid;
            int rc = Libc.posix_spawn(&pid, strings.String(path), actions, null, argvp, envp);
            Libc.posix_spawn_file_actions_destroy(actions);
            if (rc != 0)
                throw new IOException($"posix_spawn({path}) failed: error {rc}");
            return new ChildProcess(pid);
        }
        finally
        {
            NativeMemory.Free(actions);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the child to exit, then kills it; always reaps.</summary>
    public int? Reap(TimeSpan timeout)
    {
        if (ExitStatus is not null)
            return ExitStatus;
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        int status;
        while (true)
        {
            int r = Libc.waitpid(Pid, &status, Libc.WNoHang);
            if (r == Pid)
                return ExitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F);
            if (r < 0 && Marshal.GetLastPInvokeError() != (int)Errno.EINTR)
                return ExitStatus = -1; // already reaped elsewhere
            if (Environment.TickCount64 > deadline)
                break;
            Thread.Sleep(5);
        }
        Libc.kill(Pid, Libc.SigKill);
        while (Libc.waitpid(Pid, &status, 0) < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR) { }
        return ExitStatus = 128 + Libc.SigKill;
    }

    public void Dispose() => Reap(TimeSpan.FromSeconds(5));
}
