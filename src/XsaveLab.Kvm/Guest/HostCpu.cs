using XsaveLab.Arch.Features;
using XsaveLab.Arch.Machine;

namespace XsaveLab.Kvm.Guest;

/// <summary>The physical CPU a VMM thread runs on, with that thread's FPU: the model <see cref="XsaveCpu"/> programmed
/// as <c>fpu__init_cpu_xstate()</c> does and the task's default-sized fpstate.</summary>
public sealed class HostCpu
{
    /// <summary>Addresses handed to the instruction model; only their 64-byte alignment matters.</summary>
    internal const ulong TaskBufferAddress = 0x10000;
    internal const ulong GuestBufferAddress = 0x40000;

    public HostCpu(HostFpuConfig cfg)
    {
        Config = cfg;
        Cpu = cfg.System.CreateCpu();
        TaskFpstate = new FpState(cfg.KernelDefaultSize, isGuest: false)
        {
            Xfeatures = cfg.KernelDefaultFeatures,
            UserXfeatures = cfg.UserDefaultFeatures,
            UserSize = cfg.UserDefaultSize,
            Xfd = cfg.InitXfd,
        };
        TaskFpstate.InitUser(cfg.Compacted);
        Active = TaskFpstate;
        RestoreFrom(TaskFpstate);
    }

    public HostFpuConfig Config { get; }
    public XsaveCpu Cpu { get; }

    /// <summary>The VMM thread's own fpstate (<c>fpu->__fpstate</c>); never carries guest-only features.</summary>
    public FpState TaskFpstate { get; }

    /// <summary><c>fpu->fpstate</c>: the fpstate whose contents the registers currently hold.</summary>
    public FpState Active { get; internal set; }

    /// <summary><c>fpu->__task_fpstate</c> while a guest fpstate is swapped in.</summary>
    public FpState? SavedTaskFpstate { get; internal set; }

    /// <summary><c>os_xsave()</c>: XSAVES (else XSAVEC/XSAVEOPT/XSAVE) with RFBM = fpstate->xfeatures.</summary>
    public XsaveFault SaveTo(FpState fps)
    {
        if (!Config.XsaveEnabled)
            return XsaveFault.None;
        var addr = fps.IsGuest ? GuestBufferAddress : TaskBufferAddress;
        var cpu = Config.Cpu;
        if (cpu.HasXsaves) return Cpu.Xsaves(fps.Regs, addr, fps.Xfeatures);
        if (cpu.HasXsavec) return Cpu.Xsavec(fps.Regs, addr, fps.Xfeatures);
        if (cpu.HasXsaveopt) return Cpu.Xsaveopt(fps.Regs, addr, fps.Xfeatures);
        return Cpu.Xsave(fps.Regs, addr, fps.Xfeatures);
    }

    /// <summary><c>restore_fpregs_from_fpstate(fps, XFEATURE_MASK_FPSTATE)</c>: XFD first, then XRSTOR(S) with
    /// RFBM = kernel max &amp; FPSTATE (so features absent from <paramref name="fps"/> go to their init state).</summary>
    public XsaveFault RestoreFrom(FpState fps)
    {
        if (!Config.XsaveEnabled)
            return XsaveFault.None;
        XfdUpdateState(fps);
        var addr = fps.IsGuest ? GuestBufferAddress : TaskBufferAddress;
        ulong rfbm = Config.System.RestoreMask;
        return Config.Cpu.HasXsaves ? Cpu.Xrstors(fps.Regs, addr, rfbm) : Cpu.Xrstor(fps.Regs, addr, rfbm);
    }

    /// <summary><c>xfd_update_state()</c>: write IA32_XFD when it differs from the fpstate's value.</summary>
    public void XfdUpdateState(FpState fps)
    {
        if (Config.InitXfd != 0 && Cpu.Xfd != fps.Xfd)
            Check(Cpu.Wrmsr(Msr.IA32_XFD, fps.Xfd), "IA32_XFD");
    }

    private static void Check(XsaveFault f, string what)
    {
        if (f.IsFault)
            throw new InvalidOperationException($"host CPU: writing {what} faulted: {f}");
    }
}
