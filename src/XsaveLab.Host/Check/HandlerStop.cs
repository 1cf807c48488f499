namespace XsaveLab.Host.Check;

/// <summary>A traced child stopped at the first instruction of a signal handler, with its frame readable and
/// writable through /proc/PID/mem: the signal is injected with PTRACE_SINGLESTEP, and x86
/// <c>handle_signal()</c> reports a SIGTRAP stop right after <c>setup_rt_frame()</c> when stepping.</summary>
internal sealed unsafe class HandlerStop : IDisposable
{
    private const int PtraceGetRegs = 12, PtraceSetRegs = 13, PtraceSingleStep = 9, PtraceSyscall = 24, SigTrap = 5;
    public const int RegRax = 10, RegRdx = 12, RegRsi = 13, RegRdi = 14, RegOrigRax = 15, RegRip = 16, RegRsp = 19, UserRegsSize = 27 * 8;

    private readonly TracedChild _child;
    private readonly SafeFileHandle _mem;

    private HandlerStop(TracedChild child, int signal, byte[] before, byte[] at, SafeFileHandle mem)
    {
        _child = child;
        Signal = signal;
        RegsBefore = before;
        RegsAtHandler = at;
        _mem = mem;
        ulong fpOff = (ulong)(SigframeStructs.Ucontext64.OffsetOf("uc_mcontext") + SigframeStructs.Sigcontext64.OffsetOf("fpstate"));
        BufFx = BinaryPrimitives.ReadUInt64LittleEndian(Read(Reg(at, RegRdx) + fpOff, 8));
    }

    public int Signal { get; }
    public byte[] RegsBefore { get; }
    public byte[] RegsAtHandler { get; }

    /// <summary>uc.uc_mcontext.fpstate: the 64-byte aligned FPU part of the frame.</summary>
    public ulong BufFx { get; }

    public static ulong Reg(byte[] regs, int i) => BinaryPrimitives.ReadUInt64LittleEndian(regs.AsSpan(i * 8));

    /// <summary>Injects a caught, unblocked signal into a child in its loaded-registers stop. Null with the
    /// reason when that is not possible here.</summary>
    public static HandlerStop? Enter(TracedChild child, out string reason)
    {
        int sig = PickSignal(child.Pid);
        reason = "";
        if (sig == 0)
        {
            reason = "the child catches no harmless unblocked signal (SigCgt/SigBlk)";
            return null;
        }
        var before = GetRegs(child, out int e0);
        if (before is null)
        {
            reason = $"PTRACE_GETREGS: {ErrnoNames.Name(e0)}";
            return null;
        }
        if (child.Ptrace(PtraceSingleStep, 0, sig, out int e1) != 0)
        {
            reason = $"PTRACE_SINGLESTEP with signal {sig}: {ErrnoNames.Name(e1)}";
            return null;
        }
        var st = NativeSpawn.WaitFor(child.Pid, TimeSpan.FromSeconds(20));
        if (st is not { Stopped: true } s || s.StopSignal != SigTrap)
        {
            reason = $"the child did not stop at its handler ({st?.ToString() ?? "timeout"})";
            return null;
        }
        var at = GetRegs(child, out _)!;
        var mem = File.OpenHandle($"/proc/{child.Pid}/mem", FileMode.Open, FileAccess.ReadWrite);
        return new HandlerStop(child, sig, before, at, mem);
    }

    public byte[] Read(ulong address, int length)
    {
        var b = new byte[length];
        int got = RandomAccess.Read(_mem, b, (long)address);
        if (got != length)
            throw new HostProbeException($"short read of the child's memory at 0x{address:x}: {got} of {length} bytes");
        return b;
    }

    public void Write(ulong address, ReadOnlySpan<byte> data) => RandomAccess.Write(_mem, data, (long)address);

    /// <summary>Returns from the handler at once: rip = the frame's pretcode (the SA_RESTORER trampoline, which
    /// issues rt_sigreturn), rsp past it as <c>ret</c> would leave it; then runs to the end of that system call
    /// (PTRACE_SYSCALL entry and exit stops) or to the signal the kernel forces on a bad frame.</summary>
    public WaitStatus Sigreturn()
    {
        var regs = (byte[])RegsAtHandler.Clone();
        ulong sp = Reg(regs, RegRsp);
        ulong pretcode = BinaryPrimitives.ReadUInt64LittleEndian(Read(sp, 8));
        BinaryPrimitives.WriteUInt64LittleEndian(regs.AsSpan(RegRip * 8), pretcode);
        BinaryPrimitives.WriteUInt64LittleEndian(regs.AsSpan(RegRsp * 8), sp + 8);
        fixed (byte* p = regs)
            if (_child.Ptrace(PtraceSetRegs, 0, (nint)p, out int e) != 0)
                throw new HostProbeException($"PTRACE_SETREGS: {ErrnoNames.Name(e)}");
        WaitStatus last = default;
        for (int stop = 0; stop < 2; stop++)
        {
            if (_child.Ptrace(PtraceSyscall, 0, 0, out int e) != 0)
                throw new HostProbeException($"PTRACE_SYSCALL: {ErrnoNames.Name(e)}");
            last = NativeSpawn.WaitFor(_child.Pid, TimeSpan.FromSeconds(20)) ?? throw new HostProbeException("no stop after rt_sigreturn");
            if (!last.Stopped || last.StopSignal != SigTrap)
                return last; // e.g. SIGSEGV forced by a bad frame, or the child died
        }
        return last;
    }

    /// <summary>Resumes to the next stop (PTRACE_SYSCALL): a signal the kernel queued during the system call
    /// (SIGSEGV from a bad frame) is reported there as a signal-delivery stop; otherwise the next system call
    /// of the child stops it.</summary>
    public WaitStatus NextStop()
    {
        if (_child.Ptrace(PtraceSyscall, 0, 0, out int e) != 0)
            throw new HostProbeException($"PTRACE_SYSCALL: {ErrnoNames.Name(e)}");
        return NativeSpawn.WaitFor(_child.Pid, TimeSpan.FromSeconds(20)) ?? throw new HostProbeException("the child did not stop again");
    }

    public void Dispose() => _mem.Dispose();

    private static byte[]? GetRegs(TracedChild child, out int errno)
    {
        var regs = new byte[UserRegsSize];
        fixed (byte* p = regs)
            return child.Ptrace(PtraceGetRegs, 0, (nint)p, out errno) == 0 ? regs : null;
    }

    /// <summary>A signal the child catches and does not block, from harmless ones (SIGURG, SIGWINCH, SIGCONT,
    /// SIGCHLD, then real-time signals). 0 if none.</summary>
    private static int PickSignal(int pid)
    {
        ulong caught = 0, blocked = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/task/{pid}/status"))
        {
            if (line.StartsWith("SigCgt:", StringComparison.Ordinal))
                caught = ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            else if (line.StartsWith("SigBlk:", StringComparison.Ordinal))
                blocked = ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        ulong usable = caught & ~blocked;
        foreach (int s in new[] { 23, 28, 18, 17 }.Concat(Enumerable.Range(34, 31)))
            if ((usable >> (s - 1) & 1) != 0)
                return s;
        return 0;
    }
}
