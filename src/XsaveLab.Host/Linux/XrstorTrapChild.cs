namespace XsaveLab.Host.Linux;

/// <summary>What the processor did with one image in <see cref="XrstorTrapChild.Restore"/>.</summary>
/// <param name="Faulted">XRSTOR raised an exception (the thread stopped with <paramref name="Signal"/> before the ud2).</param>
/// <param name="Signal">The stop signal: SIGILL (4) when XRSTOR completed and the ud2 trapped, SIGSEGV (11) for a #GP.</param>
/// <param name="SiCode">siginfo.si_code of that signal (SI_KERNEL 0x80 for a #GP).</param>
public readonly record struct XrstorTrapResult(bool Faulted, int Signal, int SiCode)
{
    public override string ToString() => Faulted ? $"faulted (signal {Signal}, si_code 0x{SiCode:x})" : "completed";
}

/// <summary>A traced <c>xrstor-trap</c> child (<see cref="ChildStubs.XrstorTrap"/>): each image is executed by a real
/// user-mode XRSTOR64 (RFBM all ones) in the child, and whether the processor faulted is read from the signal the
/// child stops with; the child survives every case. Before each image the child's extended state is put back to
/// what it held at its first stop (PTRACE_SETREGSET), so no earlier image — a PKRU that denies access to the
/// buffer, say — can change the outcome. Like <see cref="TracedChild"/>, all calls must come from one thread.</summary>
public sealed unsafe class XrstorTrapChild : IDisposable
{
    private const int PtraceGetRegs = 12, PtraceSetRegs = 13, PtraceGetSigInfo = 0x4202;
    private const int RegR8 = 9, UserRegsSize = 27 * 8;
    private const int SigIll = 4, SigSegv = 11;

    private readonly TracedChild _child;
    private readonly SafeFileHandle _mem;
    private readonly byte[] _regs;
    private readonly byte[] _cleanXstate;
    private readonly ulong _buffer;

    private XrstorTrapChild(TracedChild child)
    {
        _child = child;
        _regs = GetRegs();
        _buffer = BinaryPrimitives.ReadUInt64LittleEndian(_regs.AsSpan(RegR8 * 8));
        var get = child.GetRegset(NoteType.NtX86Xstate);
        if (!get.Ok)
            throw new HostProbeException($"PTRACE_GETREGSET of the xrstor-trap child: {get}");
        _cleanXstate = get.Data;
        _mem = File.OpenHandle($"/proc/{child.Pid}/mem", FileMode.Open, FileAccess.ReadWrite);
    }

    /// <summary>Starts the child and waits for its first stop; <see cref="HostProbeException"/> when it cannot be
    /// started or traced here.</summary>
    public static XrstorTrapChild Start(ChildLauncher launcher)
    {
        var child = TracedChild.SpawnUntilSigstop(launcher, [ChildMode.XrstorTrap]);
        try
        {
            return new XrstorTrapChild(child);
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>The largest image <see cref="Restore"/> takes.</summary>
    public static int Capacity => ChildMode.XrstorTrapCapacity;

    /// <summary>Copies <paramref name="image"/> into the child's 64-byte aligned buffer (zero-filled behind it) and
    /// runs XRSTOR64 of it with RFBM all ones.</summary>
    public XrstorTrapResult Restore(ReadOnlySpan<byte> image)
    {
        if (image.Length > Capacity)
            throw new ArgumentException($"at most {Capacity} bytes", nameof(image));
        var set = _child.SetRegset(NoteType.NtX86Xstate, _cleanXstate);
        if (!set.Ok)
            throw new HostProbeException($"PTRACE_SETREGSET of the clean state: {set}");
        var buffer = new byte[Capacity];
        image.CopyTo(buffer);
        RandomAccess.Write(_mem, buffer, (long)_buffer);
        fixed (byte* p = _regs)
            if (_child.Ptrace(PtraceSetRegs, 0, (nint)p, out int e) != 0)
                throw new HostProbeException($"PTRACE_SETREGS: {ErrnoNames.Name(e)}");
        if (_child.Cont(0, out int ce) != 0)
            throw new HostProbeException($"PTRACE_CONT: {ErrnoNames.Name(ce)}");
        var st = NativeSpawn.WaitFor(_child.Pid, TimeSpan.FromSeconds(20)) ?? throw new HostProbeException("the xrstor-trap child did not stop");
        if (!st.Stopped || st.StopSignal is not (SigIll or SigSegv))
            throw new HostProbeException($"the xrstor-trap child: {st}");
        var info = new byte[128];
        fixed (byte* p = info)
            if (_child.Ptrace(PtraceGetSigInfo, 0, (nint)p, out int ie) != 0)
                throw new HostProbeException($"PTRACE_GETSIGINFO: {ErrnoNames.Name(ie)}");
        int code = BinaryPrimitives.ReadInt32LittleEndian(info.AsSpan(8)); // siginfo_t: si_signo, si_errno, si_code
        return new XrstorTrapResult(st.StopSignal == SigSegv, st.StopSignal, code);
    }

    private byte[] GetRegs()
    {
        var regs = new byte[UserRegsSize];
        fixed (byte* p = regs)
            if (_child.Ptrace(PtraceGetRegs, 0, (nint)p, out int e) != 0)
                throw new HostProbeException($"PTRACE_GETREGS: {ErrnoNames.Name(e)}");
        return regs;
    }

    public void Dispose()
    {
        _mem.Dispose();
        _child.Dispose();
    }
}
