namespace XsaveLab.Kernel.Tasks;

/// <summary>User shadow stacks (6.6, arch/x86/kernel/shstk.c): the arch_prctl interface, the per-thread stack a
/// CLONE_VM thread gets, and the restore token in signal frames. The registers (IA32_U_CET, IA32_PL3_SSP) live
/// in the task's CET_U xstate: the kernel writes them with WRMSR after <c>fpregs_lock_and_load()</c>, and
/// XSAVES/XRSTORS switch them with the rest of the FPU state.</summary>
public sealed partial class LinuxKernel
{
    /// <summary>_STK_LIM (include/uapi/linux/resource.h): the RLIMIT_STACK the model's processes run with; it
    /// sizes the shadow stack ARCH_SHSTK_ENABLE maps (<c>adjust_shstk_size(0)</c>).</summary>
    public const ulong DefaultStackRlimit = 8UL << 20;

    // SS_FRAME_SIZE and SHSTK_DATA_BIT (shstk.c): one shadow stack entry; bit 63 marks kernel data (a token that
    // can never be taken as a return address).
    private const ulong SsFrameSize = 8;
    private const ulong ShstkDataBit = 1UL << 63;
    private const ulong ShstkMaxDefault = 1UL << 32;

    /// <summary>X86_FEATURE_USER_SHSTK: a 6.6+ kernel built with CONFIG_X86_USER_SHADOW_STACK on a CPU with SHSTK
    /// (<c>setup_cet()</c>), whose CET_U state XSAVES switches (the model requires CET_U in
    /// fpu_kernel_cfg.max_features; without it the MSR values would not follow the task).</summary>
    public bool UserShstk => System.Options.X86_64 && System.XsaveEnabled && UabiConfig.UserShstk;

    /// <summary>TASK_SIZE_MAX of this machine (<see cref="UabiConfig.TaskSizeMax"/>).</summary>
    public ulong TaskSizeMax => UabiConfig.TaskSizeMax;

    /// <summary><c>shstk_prctl(task, option, arg2)</c> as <c>do_arch_prctl_64()</c> dispatches ARCH_SHSTK_*
    /// (-EINVAL for every option before 6.6 and from the stub of a kernel without CONFIG_X86_USER_SHADOW_STACK):
    /// STATUS writes thread.features to <paramref name="value"/> (-EFAULT with <paramref name="faultingPointer"/>);
    /// LOCK ORs features into features_locked (for any task); through ptrace (<paramref name="viaPtrace"/>, the
    /// task is not current) only UNLOCK is allowed besides (CONFIG_CHECKPOINT_RESTORE); otherwise a locked feature
    /// gives -EPERM, more than one feature bit -EINVAL, DISABLE of WRSS/SHSTK goes to <c>wrss_control()</c> /
    /// <c>shstk_disable()</c>, and every other option — ENABLE, and UNLOCK by the task itself, which the code
    /// does not tell apart — enables SHSTK (<c>shstk_setup()</c>) or WRSS.</summary>
    public SysResult ShstkPrctl(KernelTask task, int option, ulong arg2, out ulong value, bool viaPtrace = false, bool faultingPointer = false)
    {
        value = 0;
        ulong features = arg2;
        // Before 6.6 do_arch_prctl_64() has no ARCH_SHSTK_* case; a kernel built without
        // CONFIG_X86_USER_SHADOW_STACK has the asm/shstk.h stub. Both refuse every option, STATUS included.
        if (!Variant.CetUserSupported)
            return SysResult.Fail(Errno.EINVAL, $"do_arch_prctl_64(): kernel {Variant.Name} has no ARCH_SHSTK_* options (6.6)");
        if (!System.Options.UserShadowStack)
            return SysResult.Fail(Errno.EINVAL, "shstk_prctl(): the !CONFIG_X86_USER_SHADOW_STACK stub returns -EINVAL");
        if (option == ArchPrctl.ShstkStatus)
        {
            value = task.ShstkFeatures;
            return faultingPointer
                ? SysResult.Fail(Errno.EFAULT, "shstk_prctl(ARCH_SHSTK_STATUS): put_user() faults")
                : SysResult.Success(0, "shstk_prctl(ARCH_SHSTK_STATUS): thread.features");
        }
        if (option == ArchPrctl.ShstkLock)
        {
            task.ShstkFeaturesLocked |= features;
            return SysResult.Success(0, "shstk_prctl(ARCH_SHSTK_LOCK): features_locked |= arg2");
        }
        if (viaPtrace)
        {
            if (option == ArchPrctl.ShstkUnlock)
            {
                task.ShstkFeaturesLocked &= ~features;
                return SysResult.Success(0, "shstk_prctl(ARCH_SHSTK_UNLOCK) via ptrace: features_locked &= ~arg2");
            }
            return SysResult.Fail(Errno.EINVAL, "shstk_prctl(): only STATUS, LOCK and UNLOCK are allowed via ptrace");
        }
        if ((features & task.ShstkFeaturesLocked) != 0)
            return SysResult.Fail(Errno.EPERM, $"shstk_prctl(): feature 0x{features & task.ShstkFeaturesLocked:x} is locked");
        if (BitOperations.PopCount(features) > 1)
            return SysResult.Fail(Errno.EINVAL, "shstk_prctl(): only one feature at a time (hweight_long(arg2) > 1)");
        if (option == ArchPrctl.ShstkDisable)
        {
            if ((features & ArchPrctl.ShstkWrss) != 0)
                return WrssControl(task, enable: false);
            if ((features & ArchPrctl.ShstkShstk) != 0)
                return ShstkDisable(task);
            return SysResult.Fail(Errno.EINVAL, "shstk_prctl(ARCH_SHSTK_DISABLE): no known feature in arg2");
        }
        if ((features & ArchPrctl.ShstkShstk) != 0)
            return ShstkSetup(task);
        if ((features & ArchPrctl.ShstkWrss) != 0)
            return WrssControl(task, enable: true);
        return SysResult.Fail(Errno.EINVAL, "shstk_prctl(ARCH_SHSTK_ENABLE): no known feature in arg2");
    }

    /// <summary>PTRACE_ARCH_PRCTL: <c>do_arch_prctl_64(child, …)</c> with a task that is not current. The XSTATE
    /// options refuse it (<c>fpu_xstate_prctl()</c>: -EPERM); ARCH_SHSTK_* go to <see cref="ShstkPrctl"/>.</summary>
    public SysResult PtraceArchPrctl(KernelTask tracee, int option, ulong arg2, out ulong value)
    {
        value = 0;
        if (tracee.State == TaskState.Running)
            throw new InvalidOperationException($"{tracee} is running; ptrace acts on a stopped task");
        if (!System.Options.X86_64)
            return SysResult.Fail(Errno.EINVAL, "PTRACE_ARCH_PRCTL: a 32-bit kernel has no do_arch_prctl_64()");
        return option switch
        {
            ArchPrctl.GetXcompSupp or ArchPrctl.GetXcompPerm or ArchPrctl.ReqXcompPerm or ArchPrctl.GetXcompGuestPerm or ArchPrctl.ReqXcompGuestPerm =>
                SysResult.Fail(Errno.EPERM, "fpu_xstate_prctl(): tsk != current"),
            >= ArchPrctl.ShstkEnable and <= ArchPrctl.ShstkStatus => ShstkPrctl(tracee, option, arg2, out value, viaPtrace: true),
            _ => SysResult.Fail(Errno.EINVAL, "do_arch_prctl_64(): unknown option"),
        };
    }

    /// <summary>The user shadow stack pointer (IA32_PL3_SSP) of the running task: <c>get_user_shstk_addr()</c>.</summary>
    public ulong UserSsp(KernelTask task) => RdmsrLoaded(RequireRunning(task), task, Msr.IA32_PL3_SSP);

    /// <summary>The running task's IA32_U_CET.</summary>
    public ulong UserCet(KernelTask task) => RdmsrLoaded(RequireRunning(task), task, Msr.IA32_U_CET);

    // shstk_setup(): map a shadow stack of PAGE_ALIGN(min(RLIMIT_STACK, 4G)) bytes, point SSP at its top and set
    // CET_SHSTK_EN (the whole of U_CET).
    private SysResult ShstkSetup(KernelTask task)
    {
        if ((task.ShstkFeatures & ArchPrctl.ShstkShstk) != 0)
            return SysResult.Success(0, "shstk_setup(): already enabled");
        if (!UserShstk)
            return SysResult.Fail(Errno.EOPNOTSUPP, $"shstk_setup(): no X86_FEATURE_USER_SHSTK ({UserShstkMissing()})");
        var kc = RequireRunning(task);
        var s = task.Mm.Map(AdjustShstkSize(0));
        WrmsrLoaded(kc, task, Msr.IA32_PL3_SSP, s.Top);
        WrmsrLoaded(kc, task, Msr.IA32_U_CET, XsaveDataRules.CetShstkEn);
        task.Shstk = s;
        task.ShstkFeatures |= ArchPrctl.ShstkShstk;
        return SysResult.Success(0, $"shstk_setup(): shadow stack {s}, SSP 0x{s.Top:x}, U_CET = CET_SHSTK_EN");
    }

    // wrss_control(enable): CET_WRSS_EN in U_CET, only on top of an enabled shadow stack.
    private SysResult WrssControl(KernelTask task, bool enable)
    {
        if (!UserShstk)
            return SysResult.Fail(Errno.EOPNOTSUPP, $"wrss_control(): no X86_FEATURE_USER_SHSTK ({UserShstkMissing()})");
        if ((task.ShstkFeatures & ArchPrctl.ShstkShstk) == 0)
            return SysResult.Fail(Errno.EPERM, "wrss_control(): shadow stack not enabled");
        if (((task.ShstkFeatures & ArchPrctl.ShstkWrss) != 0) == enable)
            return SysResult.Success(0, $"wrss_control(): already {(enable ? "enabled" : "disabled")}");
        var kc = RequireRunning(task);
        ulong msr = RdmsrLoaded(kc, task, Msr.IA32_U_CET);
        if (enable)
        {
            task.ShstkFeatures |= ArchPrctl.ShstkWrss;
            msr |= XsaveDataRules.CetWrssEn;
        }
        else
        {
            task.ShstkFeatures &= ~ArchPrctl.ShstkWrss;
            if ((msr & XsaveDataRules.CetWrssEn) == 0)
                return SysResult.Success(0, "wrss_control(): CET_WRSS_EN already clear");
            msr &= ~XsaveDataRules.CetWrssEn;
        }
        WrmsrLoaded(kc, task, Msr.IA32_U_CET, msr);
        return SysResult.Success(0, $"wrss_control(): U_CET = 0x{msr:x}");
    }

    // shstk_disable(): U_CET and SSP to 0 (WRSS goes too), the stack unmapped.
    private SysResult ShstkDisable(KernelTask task)
    {
        if (!UserShstk)
            return SysResult.Fail(Errno.EOPNOTSUPP, $"shstk_disable(): no X86_FEATURE_USER_SHSTK ({UserShstkMissing()})");
        if ((task.ShstkFeatures & ArchPrctl.ShstkShstk) == 0)
            return SysResult.Success(0, "shstk_disable(): already disabled");
        var kc = RequireRunning(task);
        WrmsrLoaded(kc, task, Msr.IA32_U_CET, 0);
        WrmsrLoaded(kc, task, Msr.IA32_PL3_SSP, 0);
        ShstkFree(task);
        task.ShstkFeatures &= ~(ArchPrctl.ShstkShstk | ArchPrctl.ShstkWrss);
        return SysResult.Success(0, "shstk_disable(): U_CET = 0, SSP = 0, shadow stack unmapped");
    }

    // shstk_free(): unmap the thread's own shadow stack (none for a vfork child: base 0). Called from
    // shstk_disable() and, through mm_release() → deactivate_mm(), when the thread leaves its mm (exit, exec).
    private void ShstkFree(KernelTask task)
    {
        if (!UserShstk || (task.ShstkFeatures & ArchPrctl.ShstkShstk) == 0 || task.Shstk.Base == 0 || task.Shstk.Size == 0)
            return;
        task.Mm.Unmap(task.Shstk);
        task.Shstk = task.Shstk with { Size = 0 };
    }

    // shstk_alloc_thread_stack(): with shadow stacks enabled, a CLONE_VFORK child runs on the parent's stack
    // (base/size cleared so it never frees it), a !CLONE_VM child on its copy of the parent's; a CLONE_VM thread
    // gets a new one. Returns the new SSP (the top) or 0 for "no change".
    private ulong ShstkAllocThreadStack(KernelTask parent, KernelTask child, bool cloneVm, bool vfork, ulong stackSize)
    {
        if ((parent.ShstkFeatures & ArchPrctl.ShstkShstk) == 0)
            return 0;
        if (vfork)
        {
            child.Shstk = default;
            return 0;
        }
        if (!cloneVm)
            return 0;
        var s = child.Mm.Map(AdjustShstkSize(stackSize));
        child.Shstk = s;
        return s.Top;
    }

    // update_fpu_shstk() (fpu_clone()): a non-zero SSP goes into the child's CET_U user_ssp; the state was just
    // copied from the parent, so CET_U must be present (XSTATE_BV) — WARN_ON_ONCE and failure otherwise.
    private void UpdateFpuShstk(KernelTask child, ulong ssp)
    {
        if (ssp == 0)
            return;
        var fps = child.Fpu.FpState;
        if ((fps.XstateBv & XFeatureMasks.CetUser) == 0)
        {
            Warn($"WARNING: update_fpu_shstk(): no CET_U state in {child}'s fpstate (XSTATE_BV 0x{fps.XstateBv:x})");
            return;
        }
        int at = UabiConfig.KernelOffset(fps.XcompBv, (int)XFeature.CetUser) + CetUserSspOffset;
        BinaryPrimitives.WriteUInt64LittleEndian(fps.Buffer.AsSpan(at), ssp);
    }

    /// <summary><c>struct cet_user_state</c>: user_cet at 0, user_ssp at 8.</summary>
    public const int CetUserSspOffset = 8;

    // reset_thread_features() (start_thread_common() on exec): no features, nothing locked, no stack recorded.
    private static void ResetThreadFeatures(KernelTask task)
    {
        task.Shstk = default;
        task.ShstkFeatures = 0;
        task.ShstkFeaturesLocked = 0;
    }

    // adjust_shstk_size(): the clone's stack size page aligned, or min(RLIMIT_STACK, 4 GiB).
    private static ulong AdjustShstkSize(ulong size)
    {
        ulong page = (ulong)Memory.SlubRules.PageSize;
        ulong s = size != 0 ? size : Math.Min(DefaultStackRlimit, ShstkMaxDefault);
        return (s + page - 1) & ~(page - 1);
    }

    private string UserShstkMissing() =>
        !Variant.CetUserSupported ? $"kernel {Variant.Name} predates user shadow stacks (6.6)"
        : !System.Options.UserShadowStack ? "CONFIG_X86_USER_SHADOW_STACK is off"
        : !System.Options.X86_64 ? "32-bit kernel"
        : "CET_U is not in IA32_XSS (no SHSTK or no XSAVES)";

    /// <summary><c>setup_signal_shadow_stack()</c> (x64_setup_rt_frame(), before the frame is written): with a shadow
    /// stack enabled, push a restore token — the old SSP with bit 63 set (SHSTK_DATA_BIT: data, never a return
    /// address) — then the sa_restorer address, and move SSP below them. -EINVAL without a restorer, with SSP 0
    /// or not 8-byte aligned; -EFAULT when the write (WRUSS) faults. A failure makes the delivery fail:
    /// <c>force_sigsegv()</c>, recorded as SIGSEGV on the task.</summary>
    public SysResult SetupSignalShadowStack(KernelTask task, ulong restorer)
    {
        if (!UserShstk || (task.ShstkFeatures & ArchPrctl.ShstkShstk) == 0)
            return SysResult.Success(0, "setup_signal_shadow_stack(): no shadow stack, nothing pushed");
        var r = PushSigframe(task, restorer);
        if (!r.Ok)
            task.Signal(new SignalInfo(SignalInfo.SIGSEGV, 0, $"signal delivery failed, force_sigsegv(): {r.Rule}"));
        return r;
    }

    private SysResult PushSigframe(KernelTask task, ulong restorer)
    {
        if (restorer == 0)
            return SysResult.Fail(Errno.EINVAL, "setup_signal_shadow_stack(): no sa_restorer");
        var kc = RequireRunning(task);
        ulong ssp = RdmsrLoaded(kc, task, Msr.IA32_PL3_SSP);
        if (ssp == 0)
            return SysResult.Fail(Errno.EINVAL, "setup_signal_shadow_stack(): SSP is 0");
        ulong target = ssp;
        if ((target & 7) != 0)
            return SysResult.Fail(Errno.EINVAL, $"shstk_push_sigframe(): SSP 0x{target:x} is not 8-byte aligned");
        ssp -= SsFrameSize;
        if (!task.Mm.Write(ssp, target | ShstkDataBit))
            return SysResult.Fail(Errno.EFAULT, $"put_shstk_data(): write_user_shstk_64(0x{ssp:x}) faults");
        ssp -= SsFrameSize;
        if (!task.Mm.Write(ssp, restorer))
            return SysResult.Fail(Errno.EFAULT, $"setup_signal_shadow_stack(): write_user_shstk_64(0x{ssp:x}) of the restorer faults");
        WrmsrLoaded(kc, task, Msr.IA32_PL3_SSP, ssp);
        return SysResult.Success(0, $"setup_signal_shadow_stack(): token 0x{target | ShstkDataBit:x} at 0x{ssp + SsFrameSize:x}, restorer at 0x{ssp:x}, SSP 0x{ssp:x}");
    }

    /// <summary><c>restore_signal_shadow_stack()</c> (rt_sigreturn, after restore_sigcontext()): SSP must point at
    /// the restore token (the handler's RET popped the restorer): it must be readable shadow stack memory (-EFAULT;
    /// for a page-aligned SSP the VMA must be VM_SHADOW_STACK), have bit 63 set (-EINVAL), and name an 8-byte
    /// aligned address below TASK_SIZE_MAX (-EINVAL); SSP becomes that address. A failure is rt_sigreturn's
    /// <c>badframe</c>: <c>signal_fault()</c>, SIGSEGV (recorded on the task).</summary>
    /// <remarks>The model's address space holds only shadow stacks, so a read anywhere else faults.</remarks>
    public SysResult RestoreSignalShadowStack(KernelTask task)
    {
        if (!UserShstk || (task.ShstkFeatures & ArchPrctl.ShstkShstk) == 0)
            return SysResult.Success(0, "restore_signal_shadow_stack(): no shadow stack, nothing popped");
        var r = PopSigframe(task);
        if (!r.Ok)
            task.Signal(new SignalInfo(SignalInfo.SIGSEGV, 0, $"rt_sigreturn badframe, signal_fault(): {r.Rule}"));
        return r;
    }

    private SysResult PopSigframe(KernelTask task)
    {
        var kc = RequireRunning(task);
        ulong ssp = RdmsrLoaded(kc, task, Msr.IA32_PL3_SSP);
        if (ssp == 0)
            return SysResult.Fail(Errno.EINVAL, "restore_signal_shadow_stack(): SSP is 0");
        if ((ssp & 7) != 0)
            return SysResult.Fail(Errno.EINVAL, $"shstk_pop_sigframe(): SSP 0x{ssp:x} is not 8-byte aligned");
        if (task.Mm.Read(ssp) is not ulong data)
            return SysResult.Fail(Errno.EFAULT, $"shstk_pop_sigframe(): 0x{ssp:x} is not shadow stack memory");
        if ((data & ShstkDataBit) == 0)
            return SysResult.Fail(Errno.EINVAL, $"get_shstk_data(): 0x{data:x} at 0x{ssp:x} is not a restore token (bit 63 clear)");
        ulong tokenAddr = data & ~ShstkDataBit;
        if ((tokenAddr & 7) != 0)
            return SysResult.Fail(Errno.EINVAL, $"shstk_pop_sigframe(): restored SSP 0x{tokenAddr:x} is not 8-byte aligned");
        if (tokenAddr >= TaskSizeMax)
            return SysResult.Fail(Errno.EINVAL, $"shstk_pop_sigframe(): restored SSP 0x{tokenAddr:x} >= TASK_SIZE_MAX");
        WrmsrLoaded(kc, task, Msr.IA32_PL3_SSP, tokenAddr);
        return SysResult.Success(0, $"restore_signal_shadow_stack(): SSP 0x{ssp:x} -> 0x{tokenAddr:x}");
    }

    /// <summary>The shadow-stack half of RET in the running task: the entry at SSP is popped (SSP += 8) and
    /// returned — for a signal handler, the restorer address <see cref="SetupSignalShadowStack"/> pushed. Null (and
    /// nothing changed) when SSP is not on shadow stack memory.</summary>
    public ulong? ShadowStackReturn(KernelTask task)
    {
        var kc = RequireRunning(task);
        ulong ssp = RdmsrLoaded(kc, task, Msr.IA32_PL3_SSP);
        if (task.Mm.Read(ssp) is not ulong v)
            return null;
        WrmsrLoaded(kc, task, Msr.IA32_PL3_SSP, ssp + SsFrameSize);
        return v;
    }

    /// <summary>User WRSSQ: writes 8 bytes of shadow stack memory, allowed only with CET_WRSS_EN in U_CET (else #UD)
    /// and only onto a shadow stack page (else a fault); either failure is SIGSEGV, returned and recorded.</summary>
    public SignalInfo? Wrss(KernelTask task, ulong address, ulong value)
    {
        var kc = RequireRunning(task);
        SignalInfo? sig = null;
        if ((RdmsrLoaded(kc, task, Msr.IA32_U_CET) & XsaveDataRules.CetWrssEn) == 0)
            sig = new SignalInfo(SignalInfo.SIGSEGV, 0, "WRSS without CET_WRSS_EN");
        else if (!task.Mm.Write(address, value))
            sig = new SignalInfo(SignalInfo.SIGSEGV, 0, $"WRSS to 0x{address:x}, not shadow stack memory");
        if (sig is { } s)
            task.Signal(s);
        return sig;
    }

    // fpregs_lock_and_load(), then RDMSR/WRMSR of an XSAVE-managed CET MSR at CPL 0: the value lands in (or comes
    // from) the live CET_U registers, which the next switch saves into the task's fpstate.
    private ulong RdmsrLoaded(KernelCpu kc, KernelTask task, uint msr)
    {
        ExitToUser(kc, task);
        int cpl = kc.Cpu.Cpl;
        kc.Cpu.Cpl = 0;
        kc.Cpu.Rdmsr(msr, out ulong v);
        kc.Cpu.Cpl = cpl;
        return v;
    }

    private void WrmsrLoaded(KernelCpu kc, KernelTask task, uint msr, ulong value)
    {
        ExitToUser(kc, task);
        int cpl = kc.Cpu.Cpl;
        kc.Cpu.Cpl = 0;
        var f = kc.Cpu.Wrmsr(msr, value);
        kc.Cpu.Cpl = cpl;
        if (f.IsFault)
            Violation($"wrmsr(0x{msr:x}, 0x{value:x}) faulted for {task}: {f}");
    }
}
