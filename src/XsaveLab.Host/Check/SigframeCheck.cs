using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using XsaveLab.Host.Linux;
using XsaveLab.Kernel.Uabi;

namespace XsaveLab.Host.Check;

/// <summary>A real signal frame: the traced child (registers loaded with known values) gets a signal it has a
/// handler for, injected with PTRACE_SINGLESTEP so it stops at the handler's first instruction
/// (<c>signal_setup_done()</c> → ptrace_notify(SIGTRAP) when stepping). The FPU part of the frame the kernel
/// built is read through /proc/PID/mem and compared with <see cref="Sigframes.CopyFpstateToSigframe"/>.</summary>
public sealed class SigframeCheck : IHostCheckProvider
{
    public string Name => "signal frame";

    private const ulong Seed = 0x516F_0003;
    private const int PtraceGetRegs = 12, PtraceSingleStep = 9, SigTrap = 5;

    // struct user_regs_struct (x86-64): 27 u64 in this order.
    private const int RegRdi = 14, RegRsi = 13, RegRdx = 12, RegRsp = 19, UserRegsSize = 27 * 8;

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        if (ctx.Launcher is null || !ctx.Cpu.HasXsave)
        {
            yield return Observable.Skipped("signal frame", ctx.Launcher is null ? ctx.LauncherUnavailableReason : "the CPU has no XSAVE");
            yield break;
        }
        TracedChild? child = null;
        string? why = null;
        try
        {
            child = TracedChild.SpawnLoadedRegisters(ctx.Launcher, Seed);
        }
        catch (HostProbeException e)
        {
            why = $"cannot trace a child here: {e.Message}";
        }
        if (child is null)
        {
            yield return Observable.Skipped("signal frame", why!);
            yield break;
        }
        using (child)
        {
            foreach (var o in Checks(ctx, child))
                yield return o;
        }
    }

    private static unsafe List<Observable> Checks(HostCheckContext ctx, TracedChild child)
    {
        var list = new List<Observable>();
        var get = child.GetRegset(NoteType.NtX86Xstate);
        if (!get.Ok)
        {
            list.Add(Observable.Skipped("signal frame", $"PTRACE_GETREGSET failed: {get}"));
            return list;
        }
        var cfg = ctx.Uabi(ChildModel.HardwareMxcsrMask(get.Data));
        var model = ChildModel.AfterLoad(cfg, SeededXstateImage.Build(Seed, UserXstateLayout.FromHost()));

        int sig = PickSignal(child.Pid);
        if (sig == 0)
        {
            list.Add(Observable.Skipped("signal frame", "the child catches no harmless unblocked signal (SigCgt/SigBlk)"));
            return list;
        }
        var regs0 = new byte[UserRegsSize];
        fixed (byte* p = regs0)
            if (child.Ptrace(PtraceGetRegs, 0, (nint)p, out int e0) != 0)
            {
                list.Add(Observable.Skipped("signal frame", $"PTRACE_GETREGS: {Linux.Errno.Name(e0)}"));
                return list;
            }
        if (child.Ptrace(PtraceSingleStep, 0, sig, out int e1) != 0)
        {
            list.Add(Observable.Skipped("signal frame", $"PTRACE_SINGLESTEP with signal {sig}: {Linux.Errno.Name(e1)}"));
            return list;
        }
        var st = NativeSpawn.WaitFor(child.Pid, TimeSpan.FromSeconds(20));
        if (st is not { Stopped: true } s || s.StopSignal != SigTrap)
        {
            list.Add(Observable.Skipped("signal frame", $"the child did not stop at its handler ({st?.ToString() ?? "timeout"})"));
            return list;
        }
        var regs1 = new byte[UserRegsSize];
        fixed (byte* p = regs1)
            child.Ptrace(PtraceGetRegs, 0, (nint)p, out _);
        ulong Reg(byte[] r, int i) => BinaryPrimitives.ReadUInt64LittleEndian(r.AsSpan(i * 8));

        list.Add(Observable.Compare("signal handler argument (signal number)", sig.ToString(CultureInfo.InvariantCulture), Reg(regs1, RegRdi).ToString(CultureInfo.InvariantCulture)));
        ulong uc = Reg(regs1, RegRdx);
        int fpOff = SigframeStructs.Ucontext64.OffsetOf("uc_mcontext") + SigframeStructs.Sigcontext64.OffsetOf("fpstate");
        using var mem = File.OpenHandle($"/proc/{child.Pid}/mem", FileMode.Open, FileAccess.Read);
        ulong bufFx = BinaryPrimitives.ReadUInt64LittleEndian(Read(mem, uc + (ulong)fpOff, 8));

        // Where the kernel put the frame: below the red zone, buf_fx 64-aligned (fpu__alloc_mathframe), the
        // rt_sigframe below it (align_sigframe: round_down(sp - sizeof(rt_sigframe), 16) - 8).
        ulong sp0 = Reg(regs0, RegRsp);
        var (spAfterMath, modelBufFx, _) = SigframeSizes.AllocMathframe(cfg, model.Fpstate, sp0 - 128, false);
        ulong modelSp = ((spAfterMath - (ulong)SigframeStructs.RtSigframe.Sizeof) & ~15UL) - 8;
        const string placement = "get_sigframe(): red zone 128, fpu__alloc_mathframe(), align_sigframe(); no SA_ONSTACK";
        list.Add(Observable.Compare("signal frame: fpstate pointer (buf_fx) relative to the interrupted sp", $"sp-{sp0 - modelBufFx}", $"sp-{sp0 - bufFx}", placement));
        list.Add(Observable.Compare("signal frame: handler sp relative to the interrupted sp", $"sp-{sp0 - modelSp}", $"sp-{sp0 - Reg(regs1, RegRsp)}", placement));
        list.Add(Observable.Compare("signal frame: ucontext address", $"sp+{SigframeStructs.RtSigframe.OffsetOf("uc")}", $"sp+{uc - Reg(regs1, RegRsp)}", "rt_sigframe {pretcode, uc, info}"));
        list.Add(Observable.Compare("signal frame: siginfo address", $"sp+{SigframeStructs.RtSigframe.OffsetOf("info")}", $"sp+{Reg(regs1, RegRsi) - Reg(regs1, RegRsp)}", "rt_sigframe {pretcode, uc, info}"));

        int len = model.Fpstate.UserSize + SigframeSizes.Magic2Size;
        var actual = Read(mem, bufFx, len);
        var modelFrame = new byte[len];
        Sigframes.CopyFpstateToSigframe(cfg, model, modelFrame);
        const string why = "copy_fpstate_to_sigframe(): XSAVE of the child's registers, PKRU update, save_xstate_epilog()";
        foreach (var (region, off, n) in ChildModel.Regions(cfg))
        {
            if (off == UabiOffsets.Padding)
                continue; // XSAVE leaves these 48 bytes as the stack held them
            list.Add(Observable.Compare($"signal frame {region}", ChildModel.Hex(modelFrame.AsSpan(off, n)), ChildModel.Hex(actual.AsSpan(off, n)), why));
        }
        list.Add(Observable.Compare("signal frame MAGIC2 after the image", ChildModel.Hex(modelFrame.AsSpan(len - 4)), ChildModel.Hex(actual.AsSpan(len - 4)), why));
        return list;
    }

    private static byte[] Read(SafeFileHandle mem, ulong address, int length)
    {
        var b = new byte[length];
        int got = RandomAccess.Read(mem, b, (long)address);
        if (got != length)
            throw new HostProbeException($"short read of the child's memory at 0x{address:X}: {got} of {length} bytes");
        return b;
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
