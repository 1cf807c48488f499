namespace XsaveLab.Kernel.Tasks;

public sealed partial class LinuxKernel
{
    /// <summary>KFPU_387 / KFPU_MXCSR flags of <c>kernel_fpu_begin_mask()</c>.</summary>
    public const int Kfpu387 = 1, KfpuMxcsr = 2;

    /// <summary>Makes <paramref name="task"/> current on CPU <paramref name="cpu"/> (<c>__switch_to()</c>):
    /// <c>switch_fpu()</c> saves the outgoing task, PKRU is switched eagerly, and a user task returns to user
    /// space through <c>switch_fpu_return()</c> (deferred restore). Allocation-free.</summary>
    public void Schedule(int cpu, KernelTask task)
    {
        var kc = _cpus[cpu];
        if (task.State == TaskState.Dead || task.State == TaskState.Blocked)
            throw new InvalidOperationException($"{task} is {task.State}");
        if (task.OnCpu >= 0 && task.OnCpu != cpu)
            throw new InvalidOperationException($"{task} is running on CPU {task.OnCpu}");
        if (kc.Current == task)
        {
            ExitToUser(kc, task);
            return;
        }
        var prev = kc.Current;
        if (prev != null)
            SwitchOut(kc, prev, TaskState.Runnable);
        PkruLoad(kc, prev, task);
        kc.Current = task;
        task.OnCpu = cpu;
        task.State = TaskState.Running;
        Counters.ContextSwitches++;
        Jiffies++;
        if (!task.IsKernelThread)
            ExitToUser(kc, task);
    }

    /// <summary>Switches CPU <paramref name="cpu"/> to idle.</summary>
    public void Deschedule(int cpu)
    {
        var kc = _cpus[cpu];
        if (kc.Current is not { } prev)
            return;
        SwitchOut(kc, prev, TaskState.Runnable);
        PkruLoad(kc, prev, null);
        kc.Current = null;
        Counters.ContextSwitches++;
        Jiffies++;
    }

    private void SwitchOut(KernelCpu kc, KernelTask prev, TaskState newState)
    {
        SwitchFpu(kc, prev);
        prev.OnCpu = -1;
        if (prev.State == TaskState.Running)
            prev.State = newState;
    }

    // switch_fpu(old, cpu) (asm/fpu/sched.h): save and remember the CPU; the registers keep old's state and
    // ownership so a return to the same CPU skips the restore.
    private void SwitchFpu(KernelCpu kc, KernelTask old)
    {
        if (!System.Caps.Fpu || !FpuSwitchPolicy.SwitchFpuSaves(old.NeedFpuLoad, old.IsKernelThread))
            return;
        old.NeedFpuLoad = true;
        SaveFpregsToFpstate(kc, old.Fpu);
        old.Fpu.LastCpu = kc.Id;
    }

    // x86_pkru_load(): stash prev's PKRU, write next's when it differs.
    private void PkruLoad(KernelCpu kc, KernelTask? prev, KernelTask? next)
    {
        if (!OsPke)
            return;
        uint cur = ReadPkru(kc);
        if (prev != null)
            prev.Pkru = cur;
        uint want = next?.Pkru ?? InitPkruValue;
        if (want != cur)
            WritePkru(kc, want);
    }

    internal static uint ReadPkru(KernelCpu kc) => BinaryPrimitives.ReadUInt32LittleEndian(kc.Cpu.Read((int)XFeature.Pkru));

    internal void WritePkru(KernelCpu kc, uint value)
    {
        int cpl = kc.Cpu.Cpl;
        kc.Cpu.Read((int)XFeature.Pkru).CopyTo(kc.PkruScratch); // WRPKRU leaves the rest of the slot as it is
        BinaryPrimitives.WriteUInt32LittleEndian(kc.PkruScratch, value);
        var f = kc.Cpu.Write((int)XFeature.Pkru, kc.PkruScratch);
        kc.Cpu.Cpl = cpl;
        if (f.IsFault)
            Warn($"WRPKRU faulted on CPU {kc.Id}: {f}");
        Counters.PkruWrites++;
    }

    // Exit to user mode: switch_fpu_return() → fpregs_restore_userregs() when TIF_NEED_FPU_LOAD is set.
    internal void ExitToUser(KernelCpu kc, KernelTask task)
    {
        if (task.NeedFpuLoad)
            FpregsRestoreUserregs(kc, task);
        kc.Cpu.Cpl = 3;
    }

    /// <summary>fpregs_state_valid(): the registers hold <paramref name="fpu"/>'s state on this CPU.</summary>
    public static bool FpregsStateValid(KernelCpu kc, Fpu fpu) => FpuSwitchPolicy.FpregsStateValid(kc.FpregsOwnerCtx == fpu, fpu.LastCpu, kc.Id);

    // fpregs_restore_userregs(): restore unless the registers are still valid, then mark active.
    internal void FpregsRestoreUserregs(KernelCpu kc, KernelTask task)
    {
        var fpu = task.Fpu;
        if (!FpregsStateValid(kc, fpu))
        {
            RestoreFpregsFromFpstate(kc, fpu.FpState, System.FpstateMask);
            kc.FpregsOwnerCtx = fpu;
            fpu.LastCpu = kc.Id;
        }
        else
            Counters.RestoresAvoided++;
        task.NeedFpuLoad = false;
    }

    // fpregs_mark_activate().
    internal void FpregsMarkActivate(KernelCpu kc, KernelTask task)
    {
        kc.FpregsOwnerCtx = task.Fpu;
        task.Fpu.LastCpu = kc.Id;
        task.NeedFpuLoad = false;
    }

    // xfd_update_state(): only with the dynamic key, only when the cache differs.
    internal void XfdUpdateState(KernelCpu kc, FpState fps)
    {
        if (!SwitchPolicy.XfdNeedsWrite(kc.XfdState, fps.Xfd))
            return;
        XfdSetState(kc, fps.Xfd);
    }

    internal void XfdSetState(KernelCpu kc, ulong xfd)
    {
        int cpl = kc.Cpu.Cpl;
        kc.Cpu.Cpl = 0;
        var f = kc.Cpu.Wrmsr(Msr.IA32_XFD, xfd);
        kc.Cpu.Cpl = cpl;
        if (f.IsFault)
            Warn($"WRMSR IA32_XFD=0x{xfd:x} faulted on CPU {kc.Id}: {f}");
        kc.XfdState = xfd;
        Counters.XfdWrites++;
    }

    /// <summary>save_fpregs_to_fpstate(): os_xsave() with RFBM = fpstate->xfeatures (XSAVES, else XSAVEC,
    /// XSAVEOPT, XSAVE), FXSAVE without XSAVE; the AVX-512 timestamp is updated from the saved header.</summary>
    internal void SaveFpregsToFpstate(KernelCpu kc, Fpu fpu)
    {
        var fps = fpu.FpState;
        var cpu = kc.Cpu;
        using var kernelMode = new KernelMode(cpu);
        if (System.XsaveEnabled)
        {
            ulong rfbm = fps.Xfeatures;
            if (Variant.WarnGuestOnlyInHostSave && !fps.IsGuest && (rfbm & Variant.GuestSupervisorMask) != 0)
                Warn($"os_xsave(): guest-only supervisor features 0x{rfbm & Variant.GuestSupervisorMask:x} in a normal fpstate's RFBM");
            XfdValidateState(kc, fps, rfbm, rstor: false);
            ulong enabled = SwitchPolicy.SaveEnabled;
            // Every XSAVE form writes the legacy area and the header, whatever a damaged CPUID dump says of the
            // components (SDM Vol.1 §13.4).
            int end = Math.Max(XsaveOffsets.ExtendedStart, XStateGeometry.Size(System.Profile, rfbm & enabled, System.Compacted));
            if (end > fps.Size)
            {
                Violation($"save of RFBM 0x{rfbm & enabled:x} needs {end} bytes but {fps} has {fps.Size}");
                return;
            }
            var x = SwitchPolicy.Save(cpu, fps.Regs, fps.Address, rfbm);
            if (x.Fault.IsFault)
                Warn($"os_xsave() faulted on CPU {kc.Id} for {fps}: {x.Fault}");
            Counters.SavedBytes += x.Bytes;
            // fpu->avx512_timestamp follows the saved header, not what the modified optimisation skipped.
            if ((fps.XstateBv & rfbm & XFeatureMasks.Avx512Tracking) != 0)
                fpu.Avx512Timestamp = Jiffies;
        }
        else
        {
            FxsaveModel(cpu, fps.Buffer);
            Counters.SavedBytes += FpuSystem.FxregsStateSize;
        }
        Counters.Saves++;
        Counters.SaveFootprintBytes += fps.Size;
    }

    /// <summary>restore_fpregs_from_fpstate(fps, mask): XFD first, then XRSTORS (or XRSTOR) with
    /// RFBM = fpu_kernel_cfg.max_features &amp; mask, so components a previous owner used are brought to init.
    /// A faulting restore is the "Bad FPU state" fixup: WARN and load init_fpstate.</summary>
    internal void RestoreFpregsFromFpstate(KernelCpu kc, FpState fps, ulong mask)
    {
        var cpu = kc.Cpu;
        using var kernelMode = new KernelMode(cpu);
        if (System.XsaveEnabled)
        {
            XfdUpdateState(kc, fps);
            ulong rfbm = SwitchPolicy.RestoreRfbm(mask);
            XfdValidateState(kc, fps, rfbm, rstor: true);
            int end = RestoreEnd(fps, rfbm);
            if (end > fps.Size)
            {
                Violation($"restore of RFBM 0x{rfbm:x} reads {end} bytes but {fps} has {fps.Size}");
                return;
            }
            var x = SwitchPolicy.Restore(cpu, fps.Regs, fps.Address, rfbm);
            if (x.Fault.Kind == FaultKind.DeviceNotAvailable)
                UnexpectedKernelNm(kc, fps);
            else if (x.Fault.IsFault)
            {
                Warn($"Bad FPU state detected for {fps} on CPU {kc.Id} ({x.Fault}), reinitializing FPU registers.");
                ReadOnlySpan<byte> init = System.InitFpStateRegs;
                _ = System.Caps.Xsaves ? cpu.Xrstors(init, 0x1000, rfbm) : cpu.Xrstor(init, 0x1000, rfbm);
            }
            else
                Counters.RestoredBytes += x.Bytes;
        }
        else
        {
            FxrstorModel(cpu, fps.Buffer);
            Counters.RestoredBytes += FpuSystem.FxregsStateSize;
        }
        Counters.Restores++;
    }

    // An XRSTOR(S) of a buffer whose XSTATE_BV holds a component IA32_XFD disables raises #NM, not #GP, and #NM has
    // no exception-table fixup: exc_device_not_available() → handle_xfd_event() reads and clears IA32_XFD_ERR, hits
    // WARN_ON(!user_mode(regs)) and returns false, so the handler ends in die("unexpected #NM exception").
    private void UnexpectedKernelNm(KernelCpu kc, FpState fps)
    {
        kc.Cpu.Rdmsr(Msr.IA32_XFD_ERR, out ulong xfdErr);
        kc.Cpu.Wrmsr(Msr.IA32_XFD_ERR, 0);
        Warn($"handle_xfd_event(): WARN_ON(!user_mode(regs)): #NM restoring {fps} on CPU {kc.Id} (XFD 0x{fps.Xfd:x}, XFD_ERR 0x{xfdErr:x})");
        Die("unexpected #NM exception");
    }

    // xfd_validate_state() (CONFIG_X86_DEBUG_FPU, kernel/fpu/xstate.c): with IA32_XFD not matching this fpstate,
    // it must not be current's, and no component the instruction may touch can lack space in the buffer.
    private void XfdValidateState(KernelCpu kc, FpState fps, ulong mask, bool rstor)
    {
        if (!System.Caps.Xfd || fps.Xfd == kc.XfdState)
            return;
        if (kc.Current is { } cur && cur.Fpu.FpState == fps)
        {
            Warn($"xfd_validate_state(): current's {fps} has xfd 0x{fps.Xfd:x} but IA32_XFD is 0x{kc.XfdState:x} ({(rstor ? "XRSTOR" : "XSAVE")})");
            return;
        }
        mask &= ~fps.Xfd & ~fps.Xfeatures;
        if (mask != 0)
            Warn($"xfd_validate_state(): {fps} lacks space for 0x{mask:x} that {(rstor ? "XRSTOR" : "XSAVE")} may touch");
    }

    // How far an XRSTOR(S) of this buffer may read: the whole compacted layout its XCOMP_BV describes, or in
    // standard form the last component it loads; the legacy area and header always.
    private int RestoreEnd(FpState fps, ulong rfbm)
    {
        ulong xcomp = fps.XcompBv;
        int end = (xcomp & XFeatureMasks.CompactedFormat) != 0
            ? XStateGeometry.Size(System.Profile, xcomp, compacted: true)
            : XStateGeometry.Size(System.Profile, rfbm & fps.XstateBv, compacted: false);
        return Math.Max(XsaveOffsets.ExtendedStart, end);
    }

    // FXSAVE/FXRSTOR of the legacy region (x87 image incl. MXCSR at 24, XMM0-15 at 160).
    private static void FxsaveModel(XsaveCpu cpu, byte[] buffer)
    {
        cpu.Read((int)XFeature.Fp).CopyTo(buffer);
        cpu.Read((int)XFeature.Sse).CopyTo(buffer.AsSpan(XsaveOffsets.XmmSpace));
    }

    private static void FxrstorModel(XsaveCpu cpu, byte[] buffer)
    {
        _ = cpu.Write((int)XFeature.Fp, buffer.AsSpan(0, XsaveOffsets.X87Size));
        cpu.Mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(XsaveOffsets.Mxcsr)) & cpu.MxcsrMask;
        _ = cpu.Write((int)XFeature.Sse, buffer.AsSpan(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize));
    }

    /// <summary><c>kernel_fpu_begin_mask()</c> on <paramref name="cpu"/>: WARN when not allowed; save the current
    /// user task's registers (TIF_NEED_FPU_LOAD); invalidate ownership; LDMXCSR/FNINIT as asked.</summary>
    public void KernelFpuBegin(int cpu, int kfpuMask = KfpuMxcsr)
    {
        var kc = _cpus[cpu];
        if (!kc.KernelFpuAllowed)
            Warn($"kernel_fpu_begin_mask(): FPU not usable on CPU {cpu} (nested use)");
        kc.KernelFpuAllowed = false;
        var cur = kc.Current;
        if (cur != null && !cur.IsKernelThread && !cur.NeedFpuLoad)
        {
            cur.NeedFpuLoad = true;
            SaveFpregsToFpstate(kc, cur.Fpu);
        }
        kc.FpregsOwnerCtx = null;
        if ((kfpuMask & KfpuMxcsr) != 0 && System.Caps.Has(CpuFeature.Sse))
            kc.Cpu.Mxcsr = XsaveCpu.InitMxcsr;
        if ((kfpuMask & Kfpu387) != 0)
            kc.Cpu.Init((int)XFeature.Fp);
        kc.Cpu.Cpl = 0;
    }

    /// <summary>Kernel code using vector registers between begin and end (clobbers a component).</summary>
    public XsaveFault KernelFpuUse(int cpu, int component, ReadOnlySpan<byte> data)
    {
        var kc = _cpus[cpu];
        if (kc.KernelFpuAllowed)
            Warn($"kernel FPU use on CPU {cpu} outside kernel_fpu_begin()/end()");
        kc.Cpu.Cpl = 0;
        return kc.Cpu.Write(component, data);
    }

    /// <summary><c>kernel_fpu_end()</c>; the current user task reloads on its return to user space.</summary>
    public void KernelFpuEnd(int cpu)
    {
        var kc = _cpus[cpu];
        kc.KernelFpuAllowed = true;
        if (kc.Current is { IsKernelThread: false } cur)
            ExitToUser(kc, cur);
    }

    /// <summary>Kernel code on a CPU: CPL 0 until disposed, then the CPL the CPU had, on every return path. XSAVES
    /// and XRSTORS fault at CPL &gt; 0 (SDM Vol. 1 §13.11, §13.12).</summary>
    private readonly struct KernelMode : IDisposable
    {
        private readonly XsaveCpu _cpu;
        private readonly int _cpl;

        public KernelMode(XsaveCpu cpu)
        {
            _cpu = cpu;
            _cpl = cpu.Cpl;
            cpu.Cpl = 0;
        }

        public void Dispose() => _cpu.Cpl = _cpl;
    }
}
