namespace XsaveLab.Kernel.Tasks;

/// <summary>The guest FPU API KVM calls (arch/x86/kernel/fpu/core.c).</summary>
public sealed partial class LinuxKernel
{
    /// <summary>sizeof(struct kvm_xsave): the base KVM_GET_XSAVE buffer.</summary>
    public const int KvmXsaveSize = 4096;

    /// <summary><c>fpu_alloc_guest_fpstate()</c> for a vCPU created by <paramref name="task"/>: a vmalloc'ed guest
    /// fpstate sized per variant (6.17: guest_default_cfg, 509e880b7795; before: kernel defaults, 1937e18cc3cf;
    /// deferred: kernel defaults), xfd 0, XCOMP_BV and legacy init values; <c>fpu_guest.xfeatures</c> likewise;
    /// uabi_size 4096; then <c>fpu_lock_guest_permissions()</c> sets FPU_GUEST_PERM_LOCKED on the leader.</summary>
    public FpuGuest FpuAllocGuestFpstate(KernelTask task)
    {
        bool guestDefaults = Variant.GuestState == GuestStateSource.GuestDefaults;
        int size = guestDefaults ? System.GuestDefaultCfg.Size : System.KernelCfg.DefaultSize;
        var fps = Valloc(size);
        fps.IsGuest = true;
        FpstateResetFields(fps);
        FpstateInitUser(fps);
        var g = new FpuGuest(task)
        {
            FpState = fps,
            Xfeatures = guestDefaults ? System.GuestDefaultCfg.Features : System.KernelCfg.DefaultFeatures,
            UabiSize = KvmXsaveSize,
        };
        if (System.UserCfg.DefaultSize > g.UabiSize)
        {
            Warn($"fpu_alloc_guest_fpstate(): user default size {System.UserCfg.DefaultSize} > sizeof(struct kvm_xsave)");
            g.UabiSize = System.UserCfg.DefaultSize;
        }
        // fpu_lock_guest_permissions() (6.16+; fpu_init_guest_permissions(gfpu) before, which also stored the
        // unlocked value in gfpu->perm).
        if (System.Options.X86_64)
        {
            var leader = task.Leader.Fpu;
            ulong perm = leader.GuestPerm.StatePerm;
            leader.GuestPerm = leader.GuestPerm with { StatePerm = perm | FpuSystem.GuestPermLocked };
            if (Variant.FpuGuestHasPerm)
                g.Perm = perm & ~FpuSystem.GuestPermLocked;
        }
        task.AddGuest(g);
        return g;
    }

    /// <summary>What KVM does for a guest with protected state (SEV-ES, TDX): <c>fpstate->is_confidential = true</c>.
    /// Its registers are then neither saved nor restored by <c>fpu_swap_kvm_fpstate()</c> (only XFD is updated).</summary>
    public void MarkGuestConfidential(FpuGuest g)
    {
        var fps = g.FpState ?? throw new InvalidOperationException("guest fpstate was freed");
        fps.IsConfidential = true;
    }

    /// <summary><c>fpu_free_guest_fpstate()</c>: refuses (WARN) a buffer that is not a valloc'ed, unused guest one.</summary>
    public void FpuFreeGuestFpstate(FpuGuest g)
    {
        var fps = g.FpState;
        if (fps == null)
            return;
        if (!fps.IsValloc || !fps.IsGuest || fps.InUse)
        {
            Warn($"fpu_free_guest_fpstate(): refusing {fps}");
            return;
        }
        g.FpState = null;
        Vfree(fps);
        g.Owner.RemoveGuest(g);
    }

    /// <summary><c>fpu_swap_kvm_fpstate(gfpu, enter_guest)</c> on the running vCPU task: save the current
    /// registers (unless confidential or already saved), swap the fpstate pointer, restore the new one with
    /// RFBM = kernel max &amp; FPSTATE (XFD first), mark active.</summary>
    public void FpuSwapKvmFpstate(KernelTask task, FpuGuest g, bool enterGuest)
    {
        var kc = RequireRunning(task);
        var fpu = task.Fpu;
        var guestFps = g.FpState ?? throw new InvalidOperationException("guest fpstate was freed");
        if (enterGuest == guestFps.InUse)
            throw new InvalidOperationException(enterGuest ? "guest fpstate already active" : "guest fpstate not active");
        var cur = fpu.FpState;
        if (FpuSwitchPolicy.SwapKvmSaves(cur.IsConfidential, task.NeedFpuLoad))
            SaveFpregsToFpstate(kc, fpu);
        if (enterGuest)
        {
            fpu.TaskFpState = cur;
            fpu.FpState = guestFps;
            guestFps.InUse = true;
        }
        else
        {
            guestFps.InUse = false;
            fpu.FpState = fpu.TaskFpState!;
            fpu.TaskFpState = null;
        }
        cur = fpu.FpState;
        if (FpuSwitchPolicy.SwapKvmRestores(cur.IsConfidential))
            RestoreFpregsFromFpstate(kc, cur, System.FpstateMask);
        else
            XfdUpdateState(kc, cur);
        FpregsMarkActivate(kc, task);
    }

    /// <summary><c>fpu_enable_guest_xfd_features(gfpu, xfeatures)</c> (KVM_SET_CPUID2 exposing AMX): features not
    /// yet enabled are reallocated in if guest-permitted, else -EPERM. Under the deferred variant it is the
    /// extended form that also takes guest-only supervisor features (CET_KERNEL when the guest gets CET).</summary>
    public long FpuEnableGuestXfdFeatures(KernelTask task, FpuGuest g, ulong xfeatures)
    {
        xfeatures &= ~g.Xfeatures;
        if (xfeatures == 0)
            return 0;
        return XfdEnableFeature(task, xfeatures, g);
    }

    /// <summary><c>fpu_update_guest_xfd(gfpu, xfd)</c>: store the guest's IA32_XFD; write the MSR if in use. With
    /// <paramref name="clearDisabledState"/> (b45f72177594) a guest fpstate that is not in the registers
    /// (TIF_NEED_FPU_LOAD) also loses the XSTATE_BV bits XFD now disables, so no later XRSTOR loads them.</summary>
    public void FpuUpdateGuestXfd(KernelTask task, FpuGuest g, ulong xfd, bool clearDisabledState = false)
    {
        var fps = g.FpState ?? throw new InvalidOperationException("guest fpstate was freed");
        if (clearDisabledState && xfd != 0 && !fps.InUse)
            fps.XstateBv &= ~xfd;
        fps.Xfd = xfd;
        if (fps.InUse)
            XfdUpdateState(RequireRunning(task), fps);
    }

    /// <summary><c>fpu_sync_guest_vmexit_xfd_state()</c>: after a VM-exit with XFD writes not intercepted, the
    /// guest may have changed IA32_XFD; read it into the active (guest) fpstate and the per-CPU cache.</summary>
    public void FpuSyncGuestVmexitXfdState(KernelTask task)
    {
        var kc = RequireRunning(task);
        if (!FpuStateSizeDynamic)
            return;
        int cpl = kc.Cpu.Cpl;
        kc.Cpu.Cpl = 0;
        kc.Cpu.Rdmsr(Arch.Machine.Msr.IA32_XFD, out ulong xfd);
        kc.Cpu.Cpl = cpl;
        task.Fpu.FpState.Xfd = xfd;
        kc.XfdState = xfd;
    }

    /// <summary>The UABI conversion configuration of this boot.</summary>
    public UabiConfig UabiConfig => _uabi ??= new UabiConfig(System, System.UserCfg.MaxFeatures, System.UserCfg.DefaultFeatures,
        System.KernelCfg.MaxFeatures, System.MxcsrFeatureMask, _cpus[0].Cpu.MxcsrMask,
        new KernelBuildOptions(System.Options.Ia32Emulation, System.Options.UserShadowStack));

    private UabiConfig? _uabi;

    /// <summary><c>fpu_copy_guest_fpstate_to_uabi(gfpu, buf, size, xfeatures, pkru)</c> (KVM_GET_XSAVE/2): with
    /// XSAVE the standard-format image of the guest buffer; without, the FXSAVE area with XSTATE_BV = FP|SSE.</summary>
    public void FpuCopyGuestFpstateToUabi(FpuGuest g, Span<byte> buf, ulong xfeatures, uint pkru)
    {
        var fps = g.FpState ?? throw new InvalidOperationException("guest fpstate was freed");
        if (System.XsaveEnabled)
        {
            XstateUabi.CopyXstateToUabiBuf(UabiConfig, fps, xfeatures, pkru, XstateCopyMode.Xsave, buf);
            return;
        }
        buf.Clear();
        fps.Buffer.AsSpan(0, Math.Min(FpuSystem.FxregsStateSize, buf.Length)).CopyTo(buf);
        if (buf.Length >= XsaveOffsets.XcompBv)
            BinaryPrimitives.WriteUInt64LittleEndian(buf[XsaveOffsets.XstateBv..], XFeatureMasks.FpSse);
    }

    /// <summary><c>fpu_copy_uabi_to_guest_fpstate(gfpu, buf, xcr0, vpkru)</c> (KVM_SET_XSAVE): header bits must be
    /// within <paramref name="xcr0"/> (-EINVAL); PKRU is updated only when the image carries it; supervisor
    /// state in the guest buffer survives.</summary>
    public SysResult FpuCopyUabiToGuestFpstate(FpuGuest g, ReadOnlySpan<byte> buf, ulong xcr0, ref uint vpkru)
    {
        var fps = g.FpState ?? throw new InvalidOperationException("guest fpstate was freed");
        if (buf.Length < XsaveOffsets.ExtendedStart)
            return SysResult.Fail(Errno.EFAULT, $"fpu_copy_uabi_to_guest_fpstate(): {Numbers.Bytes(buf.Length)} do not hold the XSAVE header", buf.Length);
        ulong hdr = BinaryPrimitives.ReadUInt64LittleEndian(buf[XsaveOffsets.XstateBv..]);
        if (!System.XsaveEnabled)
        {
            uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(buf[XsaveOffsets.Mxcsr..]);
            if ((hdr & ~XFeatureMasks.FpSse) != 0)
                return SysResult.Fail(Errno.EINVAL, $"fpu_copy_uabi_to_guest_fpstate(): XSTATE_BV 0x{hdr:x} beyond FP|SSE without XSAVE",
                    XsaveDataRules.ByteOfLowestBit(hdr & ~XFeatureMasks.FpSse, XsaveOffsets.XstateBv));
            if (XsaveDataRules.MxcsrViolationAt(mxcsr, System.MxcsrFeatureMask) is { } bad)
                return SysResult.Fail(Errno.EINVAL, $"fpu_copy_uabi_to_guest_fpstate(): MXCSR 0x{mxcsr:x8} sets reserved bits", bad.Offset);
            buf[..FpuSystem.FxregsStateSize].CopyTo(fps.Buffer);
            return SysResult.Success();
        }
        if ((hdr & ~xcr0) != 0)
            return SysResult.Fail(Errno.EINVAL, $"fpu_copy_uabi_to_guest_fpstate(): XSTATE_BV 0x{hdr:x} outside xcr0 0x{xcr0:x}",
                XsaveDataRules.ByteOfLowestBit(hdr & ~xcr0, XsaveOffsets.XstateBv));
        bool updatePkru = (hdr & XFeatureMasks.Pkru) != 0;
        return XstateUabi.CopyUabiToXstate(UabiConfig, fps, buf, ref vpkru, updatePkru);
    }
}
