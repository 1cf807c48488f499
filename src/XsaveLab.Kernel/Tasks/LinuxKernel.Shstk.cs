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

    /// <summary><c>shstk_prctl(task, option, arg2)</c> as <c>do_arch_prctl_64()</c> dispatches ARCH_SHSTK_*:
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
