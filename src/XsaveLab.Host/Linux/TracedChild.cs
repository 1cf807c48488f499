namespace XsaveLab.Host.Linux;

/// <summary>A child process started with posix_spawn and traced with PTRACE_SEIZE. Dispose always
/// kills and reaps it: no zombie and no stopped child is left behind.</summary>
/// <remarks>ptrace requests are only accepted from the thread that attached (the kernel's
/// <c>ptrace_check_attach()</c> wants <c>child->parent == current</c>), so every ptrace call on one
/// instance must come from the OS thread that created it; run the whole sequence on one dedicated
/// thread (a synchronous test method, or a <see cref="Thread"/>). Calls from another thread throw
/// <see cref="InvalidOperationException"/>. Waiting and Dispose work from any thread.</remarks>
public sealed unsafe class TracedChild : IDisposable
{
    /// <summary>Buffer offered to GETREGSET by default (the kernel writes at most the regset size).</summary>
    public const int DefaultRegsetCapacity = 16384;

    private readonly int _tracerTid;
    private readonly IReadOnlyList<ulong> _seeds;
    private bool _reaped;

    private TracedChild(int pid, IReadOnlyList<ulong> seeds)
    {
        Pid = pid;
        _seeds = seeds;
        _tracerTid = Libc.gettid();
    }

    public int Pid { get; }

    /// <summary>The last status waitpid reported; null while the child runs (after a resume or detach).</summary>
    public WaitStatus? LastStatus { get; private set; }

    /// <summary>True while the child is in a ptrace stop.</summary>
    public bool IsStopped => !_reaped && LastStatus is { Stopped: true };

    /// <summary>For children from <see cref="SpawnLoadedRegisters(ChildLauncher, IReadOnlyList{ulong}, TimeSpan?)"/>:
    /// the seed whose image is loaded while stopped.</summary>
    public ulong? CurrentSeed => SeedIndex >= 0 && SeedIndex < _seeds.Count ? _seeds[SeedIndex] : null;

    public int SeedIndex { get; private set; } = -1;

    /// <summary>Spawns <paramref name="path"/>, seizes it and stops it with PTRACE_INTERRUPT.</summary>
    public static TracedChild Spawn(string path, IReadOnlyList<string> arguments, TimeSpan? timeout = null)
    {
        var child = StartSeized(path, arguments, []);
        try
        {
            long r = child.Ptrace(Libc.PtraceInterrupt, 0, 0, out int e);
            if (r != 0)
                throw new HostProbeException($"PTRACE_INTERRUPT {child.Pid}: {ErrnoNames.Name(e)}");
            child.WaitForStop(s => s.Event == WaitStatus.PtraceEventStop, timeout ?? TimeSpan.FromSeconds(20));
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Starts a child in <see cref="ChildMode"/> <c>load-stop</c> mode for <paramref name="seeds"/>
    /// and returns once it stopped with the first seed's image (<see cref="SeededXstateImage"/>) in its
    /// registers. <see cref="ContinueToNextSeed"/> moves on to the next seed.</summary>
    public static TracedChild SpawnLoadedRegisters(ChildLauncher launcher, IReadOnlyList<ulong> seeds, TimeSpan? timeout = null)
    {
        if (seeds.Count == 0)
            throw new ArgumentException("at least one seed", nameof(seeds));
        var args = launcher.Arguments([ChildMode.Argument, ChildMode.LoadStop, .. seeds.Select(s => s.ToString(CultureInfo.InvariantCulture))]);
        var child = StartSeized(launcher.Executable, args, seeds);
        try
        {
            child.WaitForLoadedStop(timeout ?? TimeSpan.FromSeconds(60));
            child.SeedIndex = 0;
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Starts a child in another <see cref="ChildMode"/> mode and returns once it stopped itself with
    /// SIGSTOP (the signal-delivery stop; resuming with 0 suppresses the signal).</summary>
    public static TracedChild SpawnUntilSigstop(ChildLauncher launcher, IReadOnlyList<string> childArguments, TimeSpan? timeout = null)
    {
        var child = StartSeized(launcher.Executable, launcher.Arguments([ChildMode.Argument, .. childArguments]), []);
        try
        {
            child.WaitForLoadedStop(timeout ?? TimeSpan.FromSeconds(60));
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    public static TracedChild SpawnLoadedRegisters(ChildLauncher launcher, ulong seed, TimeSpan? timeout = null) =>
        SpawnLoadedRegisters(launcher, [seed], timeout);

    /// <summary>Resumes a <c>load-stop</c> child (suppressing its SIGSTOP) and waits for the next seed's
    /// stop. False when there are no more seeds (the child then exits and is reaped).</summary>
    public bool ContinueToNextSeed(TimeSpan? timeout = null)
    {
        var t = timeout ?? TimeSpan.FromSeconds(30);
        if (Cont(0, out int e) != 0)
            throw new HostProbeException($"PTRACE_CONT {Pid}: {ErrnoNames.Name(e)}");
        SeedIndex++;
        if (SeedIndex >= _seeds.Count)
        {
            var st = WaitForExit(t);
            if (st is not { Exited: true, ExitCode: 0 })
                throw new HostProbeException($"child {Pid} after the last seed: {st?.ToString() ?? "timeout"}");
            return false;
        }
        WaitForLoadedStop(t);
        return true;
    }

    /// <summary>PTRACE_GETREGSET of <paramref name="noteType"/> into a buffer of <paramref name="capacity"/>
    /// bytes pre-filled with 0xCC.</summary>
    public LiveRegsetResult GetRegset(int noteType, int capacity = DefaultRegsetCapacity)
    {
        byte* buf = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(capacity, 64), 64);
        try
        {
            new Span<byte>(buf, capacity).Fill(0xCC);
            var iov = new Libc.Iovec { Base = buf, Len = (nuint)capacity };
            long r = Ptrace(Libc.PtraceGetRegset, noteType, (nint)(&iov), out int e);
            int len = (int)iov.Len;
            byte[] data = r == 0 ? new Span<byte>(buf, Math.Min(len, capacity)).ToArray() : [];
            return new LiveRegsetResult(SysResult.FromLibc(r, e, "PTRACE_GETREGSET"), len, data);
        }
        finally
        {
            NativeMemory.AlignedFree(buf);
        }
    }

    /// <summary>PTRACE_SETREGSET of <paramref name="noteType"/> with iov_len = data length.</summary>
    public LiveRegsetResult SetRegset(int noteType, ReadOnlySpan<byte> data) => SetRegset(noteType, data, data.Length);

    /// <summary>PTRACE_SETREGSET with an explicit iov_len (≤ data length, or larger to probe the kernel's
    /// handling of long buffers: the buffer is zero-padded to it).</summary>
    public LiveRegsetResult SetRegset(int noteType, ReadOnlySpan<byte> data, int iovLen)
    {
        int size = Math.Max(Math.Max(iovLen, data.Length), 64);
        byte* buf = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        try
        {
            var span = new Span<byte>(buf, size);
            span.Clear();
            data.CopyTo(span);
            var iov = new Libc.Iovec { Base = buf, Len = (nuint)iovLen };
            long r = Ptrace(Libc.PtraceSetRegset, noteType, (nint)(&iov), out int e);
            return new LiveRegsetResult(SysResult.FromLibc(r, e, "PTRACE_SETREGSET"), (int)iov.Len, []);
        }
        finally
        {
            NativeMemory.AlignedFree(buf);
        }
    }

    /// <summary>PTRACE_CONT, delivering <paramref name="signal"/> (0 = none). Returns ptrace's result.</summary>
    public long Cont(int signal = 0) => Cont(signal, out _);

    /// <summary>PTRACE_CONT with the errno of a failure.</summary>
    public long Cont(int signal, out int errno)
    {
        long r = Ptrace(Libc.PtraceCont, 0, signal, out errno);
        if (r == 0)
            LastStatus = null;
        return r;
    }

    /// <summary>PTRACE_INTERRUPT then wait for the resulting PTRACE_EVENT_STOP.</summary>
    public WaitStatus Interrupt(TimeSpan? timeout = null)
    {
        long r = Ptrace(Libc.PtraceInterrupt, 0, 0, out int e);
        if (r != 0)
            throw new HostProbeException($"PTRACE_INTERRUPT {Pid}: {ErrnoNames.Name(e)}");
        return WaitForStop(s => s.Event == WaitStatus.PtraceEventStop, timeout ?? TimeSpan.FromSeconds(20));
    }

    /// <summary>PTRACE_DETACH (the child keeps running untraced until Dispose kills it).</summary>
    public long Detach(int signal = 0)
    {
        long r = Ptrace(Libc.PtraceDetach, 0, signal, out _);
        if (r == 0)
            LastStatus = null;
        return r;
    }

    /// <summary>A raw ptrace request on this child; throws when called from a thread other than the
    /// one that attached.</summary>
    public long Ptrace(long request, nint addr, nint data, out int errno)
    {
        if (Libc.gettid() != _tracerTid)
            throw new InvalidOperationException($"ptrace requests must come from the tracer thread {_tracerTid}, not {Libc.gettid()}");
        ObjectDisposedException.ThrowIf(_reaped, this);
        long r = Libc.ptrace(request, Pid, addr, data);
        errno = r < 0 ? Marshal.GetLastPInvokeError() : 0;
        return r;
    }

    /// <summary>Kills (SIGKILL) and reaps the child. Idempotent.</summary>
    public void Dispose()
    {
        if (_reaped)
            return;
        _reaped = true;
        NativeSpawn.KillAndReap(Pid);
    }

    private static TracedChild StartSeized(string path, IReadOnlyList<string> arguments, IReadOnlyList<ulong> seeds)
    {
        var (pid, err) = NativeSpawn.Spawn(path, arguments);
        if (pid < 0)
            throw new HostProbeException($"posix_spawn {path}: {ErrnoNames.Name(err)}");
        var child = new TracedChild(pid, seeds);
        long r = child.Ptrace(Libc.PtraceSeize, 0, Libc.PtraceOExitKill, out int e);
        if (r != 0)
        {
            child.Dispose();
            throw new HostProbeException($"PTRACE_SEIZE {pid}: {ErrnoNames.Name(e)}");
        }
        return child;
    }

    /// <summary>Waits for the SIGSTOP the loading stub sends itself; any other signal-delivery stop
    /// (e.g. the runtime's own signals) is passed on to the child.</summary>
    private void WaitForLoadedStop(TimeSpan timeout) =>
        WaitForStop(s => s.Event == 0 && s.StopSignal == Libc.SigStop, timeout);

    private WaitStatus WaitForStop(Func<WaitStatus, bool> wanted, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var st = left > TimeSpan.Zero ? NativeSpawn.WaitFor(Pid, left) : null;
            if (st is null)
                throw new HostProbeException($"child {Pid} did not stop within {timeout.TotalSeconds:0} s");
            LastStatus = st.Value;
            if (st.Value.Exited || st.Value.Signaled)
            {
                _reaped = true;
                throw new HostProbeException($"child {Pid} {st.Value} before stopping");
            }
            if (wanted(st.Value))
                return st.Value;
            // Not ours: a group stop or event stop resumes with 0, a signal-delivery stop passes the signal on.
            int inject = st.Value.Event != 0 ? 0 : st.Value.StopSignal;
            if (Cont(inject, out int e) != 0)
                throw new HostProbeException($"PTRACE_CONT {Pid}: {ErrnoNames.Name(e)}");
        }
    }

    private WaitStatus? WaitForExit(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var st = left > TimeSpan.Zero ? NativeSpawn.WaitFor(Pid, left) : null;
            if (st is null)
                return null;
            LastStatus = st.Value;
            if (st.Value.Exited || st.Value.Signaled)
            {
                _reaped = true;
                return st;
            }
            int inject = st.Value.Event != 0 ? 0 : st.Value.StopSignal;
            Cont(inject);
        }
    }
}
