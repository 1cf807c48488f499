namespace XsaveLab.Kernel.Tasks;

public sealed partial class LinuxKernel
{
    /// <summary>The running task executes an instruction that writes <paramref name="component"/> at CPL 3
    /// (e.g. VMOVDQU, TILELOADD, LDTILECFG). An XFD #NM goes to <c>handle_xfd_event()</c>: with permission the
    /// fpstate is reallocated and the instruction restarted; without, SIGILL/ILL_ILLOPC. A #UD (component not
    /// enabled) is SIGILL/ILL_ILLOPN.</summary>
    public UserAccessResult UseComponent(KernelTask task, int component, ReadOnlySpan<byte> data)
    {
        var kc = RequireRunning(task);
        ExitToUser(kc, task);
        var cpu = kc.Cpu;
        XsaveFault f = XsaveFault.None;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            cpu.Cpl = 3;
            f = cpu.Write(component, data);
            if (!f.IsFault)
                return UserAccessResult.Ok;
            cpu.Cpl = 0;
            if (f.Kind == FaultKind.DeviceNotAvailable && task.Fpu.FpState.IsGuest)
            {
                // In guest mode the #NM belongs to the guest: KVM records IA32_XFD_ERR in fpu_guest.xfd_err and
                // injects #NM (arch/x86/kvm/vmx/vmx.c handle_exception_nmi()); the host FPU is not involved.
                cpu.Rdmsr(Msr.IA32_XFD_ERR, out ulong guestErr);
                foreach (var g in task.Guests)
                    if (g.FpState == task.Fpu.FpState)
                        g.XfdErr = guestErr;
                cpu.Cpl = 3;
                return new UserAccessResult(false, null, f);
            }
            if (f.Kind == FaultKind.DeviceNotAvailable)
            {
                Counters.XfdFaults++;
                var sig = HandleXfdEvent(kc, task);
                if (sig is { } s)
                {
                    task.Signal(s);
                    cpu.Cpl = 3;
                    return new UserAccessResult(false, s, f);
                }
                continue;
            }
            var ill = new SignalInfo(SignalInfo.SIGILL, 2, $"#UD writing component {component}: {f.Rule}");
            task.Signal(ill);
            cpu.Cpl = 3;
            return new UserAccessResult(false, ill, f);
        }
        var segv = new SignalInfo(SignalInfo.SIGSEGV, 0, $"repeated #NM writing component {component}");
        task.Signal(segv);
        return new UserAccessResult(false, segv, f);
    }

    /// <summary>TILERELEASE/VZEROUPPER-style: the running task puts a component back in init state.</summary>
    public void InitComponent(KernelTask task, int component)
    {
        var kc = RequireRunning(task);
        ExitToUser(kc, task);
        kc.Cpu.Init(component);
    }

    /// <summary>The running task's register contents of a component (what XSAVE in user space would store).</summary>
    public ReadOnlySpan<byte> ReadComponent(KernelTask task, int component)
    {
        var kc = RequireRunning(task);
        ExitToUser(kc, task);
        return kc.Cpu.Read(component);
    }

    // handle_xfd_event() (arch/x86/kernel/traps.c): returns a signal, or null when handled (retry).
    private SignalInfo? HandleXfdEvent(KernelCpu kc, KernelTask task)
    {
        var cpu = kc.Cpu;
        if (!System.Options.X86_64 || !System.Caps.Xfd)
            return new SignalInfo(SignalInfo.SIGSEGV, 0, "#NM without XFD");
        cpu.Rdmsr(Msr.IA32_XFD_ERR, out ulong xfdErr);
        if (xfdErr == 0)
            return new SignalInfo(SignalInfo.SIGSEGV, 0, "#NM with IA32_XFD_ERR = 0");
        cpu.Wrmsr(Msr.IA32_XFD_ERR, 0);
        long err = XfdEnableFeature(task, xfdErr, null);
        return err switch
        {
            0 => null,
            -(long)Errno.EPERM => new SignalInfo(SignalInfo.SIGILL, SignalInfo.ILL_ILLOPC, $"XFD #NM for 0x{xfdErr:x} without permission"),
            _ => new SignalInfo(SignalInfo.SIGSEGV, 0, $"fpstate reallocation failed ({ErrnoNames.Result(err)})"),
        };
    }

    // __xfd_enable_feature(xfd_err, guest_fpu). The deferred variant also enables guest-only supervisor
    // features for guests (its extended fpu_enable_dynamic_features()).
    internal long XfdEnableFeature(KernelTask task, ulong xfdErr, FpuGuest? guest)
    {
        ulong enableable = XFeatureMasks.UserDynamic | (guest != null && Variant.DeferredGuestSupervisor ? Variant.GuestSupervisorMask : 0);
        ulong xfdEvent = xfdErr & enableable;
        if (xfdEvent == 0)
        {
            if (guest == null)
                Warn($"XFD: Invalid xfd error: {xfdErr:x16}");
            return 0;
        }
        if ((GroupPerm(task, guest != null) & xfdEvent) != xfdEvent)
            return -(long)Errno.EPERM;
        var leader = task.Leader.Fpu;
        var perm = guest != null ? leader.GuestPerm : leader.Perm;
        return FpstateRealloc(task, xfdEvent, perm.StateSize, perm.UserStateSize, guest);
    }

    // fpstate_realloc(xfeatures, ksize, usize, guest_fpu).
    private long FpstateRealloc(KernelTask task, ulong xfeatures, int ksize, int usize, FpuGuest? guest)
    {
        var fpu = task.Fpu;
        var newfps = Valloc(ksize);
        var curfps = guest != null ? guest.FpState! : fpu.FpState;
        bool inUse = fpu.FpState == curfps;
        if (guest != null)
        {
            newfps.IsGuest = true;
            newfps.IsConfidential = curfps.IsConfidential;
            newfps.InUse = curfps.InUse;
            guest.Xfeatures |= xfeatures;
            guest.UabiSize = usize;
        }
        if (inUse && task.NeedFpuLoad && task.State == TaskState.Running)
            FpregsRestoreUserregs(_cpus[task.OnCpu], task);
        newfps.Apply(curfps.Shape.Realloc(xfeatures, ksize, usize) with { IsGuest = guest != null });
        if (System.Compacted)
            newfps.XcompBv = newfps.Xfeatures | XFeatureMasks.CompactedFormat;
        if (guest != null)
        {
            guest.FpState = newfps;
            if (inUse)
                fpu.FpState = newfps;
        }
        else
            fpu.FpState = newfps;
        if (inUse && task.State == TaskState.Running)
            XfdUpdateState(_cpus[task.OnCpu], fpu.FpState);
        Counters.Reallocations++;
        if (curfps.IsValloc)
            Vfree(curfps);
        return 0;
    }
}
