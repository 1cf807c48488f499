namespace XsaveLab.Kernel.Checks;

/// <summary>The invariants of docs/linux-fpu-core.md, "Invariants" (with register ownership and XFD) over a running kernel.</summary>
public static class FpuInvariants
{
    /// <summary>Every breach, described; empty when all hold.</summary>
    public static IReadOnlyList<string> Check(LinuxKernel kernel)
    {
        var bad = new List<string>(kernel.Violations);
        var sys = kernel.System;
        var v = sys.Variant;
        ulong guestOnly = sys.KernelCfg.MaxFeatures & v.GuestSupervisorMask;

        foreach (var t in kernel.Tasks)
        {
            if (t.State == TaskState.Dead)
                continue;
            var fpu = t.Fpu;
            CheckFpState(bad, sys, t, fpu.FpState, guestOnly);
            if (fpu.TaskFpState is { } host)
                CheckFpState(bad, sys, t, host, guestOnly);
            if (fpu.FpState.Freed)
                bad.Add($"{t}: active fpstate was freed");
            foreach (var g in t.Guests)
            {
                if (g.FpState is not { } gf)
                    continue;
                CheckFpState(bad, sys, t, gf, guestOnly);
                if (!XFeatureMasks.IsSubset(gf.Xfeatures, g.Xfeatures | XFeatureMasks.FpSse) && !v.DeferredGuestSupervisor)
                    bad.Add($"{t}: guest fpstate features 0x{gf.Xfeatures:x} not in fpu_guest.xfeatures 0x{g.Xfeatures:x}");
            }

            if (t == t.Leader && sys.XsaveEnabled)
            {
                foreach (var (name, perm, guest) in new[] { ("perm", fpu.Perm, false), ("guest_perm", fpu.GuestPerm, true) })
                {
                    ulong mask = perm.StatePerm & ~FpuSystem.GuestPermLocked;
                    if (v.StatePermPreservesNonUser)
                    {
                        ulong defaults = guest && v.GuestPerm == GuestPermSource.GuestDefaults ? sys.GuestDefaultCfg.Features : sys.KernelCfg.DefaultFeatures;
                        if (!XFeatureMasks.IsSubset(defaults, mask))
                            bad.Add($"{t}: {name} 0x{mask:x} lost default bits 0x{defaults & ~mask:x}");
                        if (perm.StateSize < sys.CalculateSize(mask, sys.Compacted))
                            bad.Add($"{t}: {name} __state_size {perm.StateSize} < size of 0x{mask:x}");
                    }
                    if (!guest && (perm.StatePerm & FpuSystem.GuestPermLocked) != 0)
                        bad.Add($"{t}: host perm has FPU_GUEST_PERM_LOCKED");
                }
            }

            if (t.State == TaskState.Running && !t.IsKernelThread && !t.NeedFpuLoad)
            {
                var kc = kernel.Cpus[t.OnCpu];
                if (!LinuxKernel.FpregsStateValid(kc, fpu))
                    bad.Add($"{t}: running without TIF_NEED_FPU_LOAD but CPU {kc.Id} registers are not its own");
                if (kernel.FpuStateSizeDynamic && kc.Cpu.Xfd != fpu.FpState.Xfd)
                    bad.Add($"{t}: IA32_XFD 0x{kc.Cpu.Xfd:x} != fpstate->xfd 0x{fpu.FpState.Xfd:x} while its state is live");
            }
        }
        foreach (var kc in kernel.Cpus)
        {
            if (kernel.FpuStateSizeDynamic && kc.Cpu.Xfd != kc.XfdState)
                bad.Add($"CPU {kc.Id}: IA32_XFD 0x{kc.Cpu.Xfd:x} != xfd_state cache 0x{kc.XfdState:x}");
            if (sys.XsaveEnabled && kc.Cpu.Xcr0 != sys.Xcr0)
                bad.Add($"CPU {kc.Id}: XCR0 0x{kc.Cpu.Xcr0:x} != 0x{sys.Xcr0:x}");
            if (sys.Caps.Xsaves && sys.XsaveEnabled && kc.Cpu.Xss != sys.Xss)
                bad.Add($"CPU {kc.Id}: IA32_XSS 0x{kc.Cpu.Xss:x} != 0x{sys.Xss:x}");
        }
        return bad;
    }

    private static void CheckFpState(List<string> bad, FpuSystem sys, KernelTask t, FpState fps, ulong guestOnly)
    {
        var v = sys.Variant;
        if (!sys.XsaveEnabled)
            return;
        if (fps.Size < sys.CalculateSize(fps.Xfeatures, sys.Compacted))
            bad.Add($"{t}: {fps} is smaller than its features need ({sys.CalculateSize(fps.Xfeatures, sys.Compacted)})");
        if (!fps.IsGuest && v.HostDefaultsExcludeGuestSupervisor && guestOnly != 0)
        {
            if ((fps.Xfeatures & guestOnly) != 0)
                bad.Add($"{t}: host {fps} has guest-only features in xfeatures");
            if (sys.Compacted && (fps.XcompBv & guestOnly) != 0)
                bad.Add($"{t}: host {fps} has guest-only features in XCOMP_BV 0x{fps.XcompBv:x}");
        }
        if (fps.IsGuest && guestOnly != 0 && !v.DeferredGuestSupervisor && (fps.Xfeatures & guestOnly) != guestOnly)
            bad.Add($"{t}: guest {fps} lacks guest-only features 0x{guestOnly:x}");
        if (sys.Compacted)
        {
            ulong xcomp = fps.XcompBv;
            if (xcomp != (fps.Xfeatures | XFeatureMasks.CompactedFormat))
                bad.Add($"{t}: {fps} XCOMP_BV 0x{xcomp:x} != xfeatures | bit 63");
            if (!XFeatureMasks.IsSubset(fps.XstateBv, xcomp & ~XFeatureMasks.CompactedFormat))
                bad.Add($"{t}: {fps} XSTATE_BV 0x{fps.XstateBv:x} not within XCOMP_BV 0x{xcomp:x}");
        }
        else if (!XFeatureMasks.IsSubset(fps.XstateBv, sys.Xcr0))
            bad.Add($"{t}: {fps} XSTATE_BV 0x{fps.XstateBv:x} outside XCR0");
        if ((fps.UserXfeatures & ~XFeatureMasks.UserSupported) != 0)
            bad.Add($"{t}: {fps} user_xfeatures 0x{fps.UserXfeatures:x} has non-user bits");
    }
}
