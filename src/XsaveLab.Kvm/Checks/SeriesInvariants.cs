using XsaveLab.Kernel.Checks;
using XsaveLab.Kernel.Uabi;

namespace XsaveLab.Kvm.Checks;

/// <summary>One invariant: a short id, the kernel rule it comes from, and what it states.</summary>
public sealed record Invariant(string Id, string Rule, string Statement);

/// <summary>A breach of an <see cref="Invariant"/> in one state.</summary>
public sealed record InvariantViolation(Invariant Invariant, string Detail)
{
    public override string ToString() => $"{Invariant.Id}: {Detail} [{Invariant.Rule}]";
}

/// <summary>The invariants checked in every state of a host kernel with KVM (docs/explore.md, "Invariants"): the
/// FPU core's own (<see cref="FpuInvariants"/>) and the CET supervisor series' rules, each stated the way the fixed
/// kernel keeps it, whatever variant runs. A variant that breaks a rule shows a violation.</summary>
public static class SeriesInvariants
{
    public static readonly Invariant FpuCore = new("fpu-core",
        "docs/linux-fpu-core.md, \"Invariants\" (register ownership, XFD, XCOMP_BV, buffer sizes)",
        "the FPU core's own invariants hold");

    public static readonly Invariant PermKeepsSupervisor = new("perm-keeps-supervisor",
        "d8414603b29f __xstate_request_perm(): __state_perm = permitted | requested",
        "a thread group's fpu->perm keeps every default supervisor bit and includes what it was granted");

    public static readonly Invariant TaskNoGuestOnly = new("task-no-guest-only",
        "151bf232494d/8b05b3c98816 host_default_mask() = ~(USER_DYNAMIC | GUEST_SUPERVISOR)",
        "a task fpstate never holds guest-only supervisor state (xfeatures, XCOMP_BV, XSTATE_BV)");

    public static readonly Invariant GuestPermCoversGuestState = new("guest-perm-covers-guest-state",
        "7c2c89364d92 fpstate_reset(): guest_perm from guest_default_cfg; d8414603b29f",
        "a thread group's fpu->guest_perm covers the guest defaults and every guest fpstate it owns");

    public static readonly Invariant GuestFpstateDefaults = new("guest-fpstate-defaults",
        "509e880b7795 fpu_alloc_guest_fpstate(): guest_default_cfg.size/features",
        "a guest fpstate holds the guest default features");

    public static readonly Invariant PermSize = new("perm-size",
        "__xstate_request_perm(): __state_size = xstate_calculate_size(mask, compacted)",
        "a permission's __state_size covers its features");

    public static readonly Invariant VcpuXrstorsAdvertised = new("vcpu-xrstors-advertised",
        "kvm_set_cpuid() -> fpu_enable_guest_xfd_features(); KVM_SUPPORTED_XSS",
        "every feature a vCPU's CPUID lets the guest enable (XCR0 and IA32_XSS) has room in its guest fpstate");

    public static readonly Invariant UabiSizes = new("uabi-sizes",
        "init_sigframe_size() (AT_MINSIGSTKSZ); xstateregs_get() (NT_X86_XSTATE); kvm_vcpu_ioctl_x86_get_xsave2() (KVM_CAP_XSAVE2)",
        "sizes reported to user space cover the state that can be written");

    /// <summary>All invariants in report order.</summary>
    public static IReadOnlyList<Invariant> All { get; } =
        [FpuCore, PermKeepsSupervisor, TaskNoGuestOnly, GuestPermCoversGuestState, GuestFpstateDefaults, PermSize, VcpuXrstorsAdvertised, UabiSizes];

    /// <summary>Every breach in the system of <paramref name="sys"/> with the <paramref name="vcpus"/> its VMM can
    /// still use (a VM's fds answer only to the mm that created it, so after the VMM's execve() its old vCPUs are
    /// out of reach: their fpstates no longer bind the process's reset permissions).</summary>
    public static List<InvariantViolation> Check(KvmSystem sys, IEnumerable<KvmVcpu> vcpus)
    {
        var bad = new List<InvariantViolation>();
        var kernel = sys.Kernel;
        var fs = kernel.System;
        foreach (var m in FpuInvariants.Check(kernel))
            bad.Add(new(FpuCore, m));
        if (!fs.XsaveEnabled)
            return bad;
        var v = fs.Variant;
        ulong guestOnly = fs.KernelCfg.MaxFeatures & v.GuestSupervisorMask;
        ulong supervisorDefaults = fs.KernelCfg.DefaultFeatures & ~XFeatureMasks.UserSupported;
        var cfg = kernel.UabiConfig;

        foreach (var t in kernel.Tasks)
        {
            if (t.State == TaskState.Dead)
                continue;
            var fpu = t.Fpu;
            foreach (var fps in HostFpstates(fpu))
            {
                ulong held = fps.Xfeatures | fps.XstateBv | (fs.Compacted ? fps.XcompBv & ~XFeatureMasks.CompactedFormat : 0);
                if ((held & guestOnly) != 0)
                    bad.Add(new(TaskNoGuestOnly, $"{t}: {fps} holds guest-only 0x{held & guestOnly:x}"));
                // copy_fpstate_to_sigframe() writes user_size bytes + MAGIC2 into a frame sized by AT_MINSIGSTKSZ;
                // PTRACE_GETREGSET(NT_X86_XSTATE) fills fpu_user_cfg.max_size bytes.
                if (SigframeSizes.XstateSigframeSize(cfg, fps) > SigframeSizes.FpuGetFpstateSize(cfg))
                    bad.Add(new(UabiSizes, $"{t}: signal frame image {SigframeSizes.XstateSigframeSize(cfg, fps)} > the fpstate part of AT_MINSIGSTKSZ {SigframeSizes.FpuGetFpstateSize(cfg)}"));
                if (fps.UserSize > fs.UserCfg.MaxSize)
                    bad.Add(new(UabiSizes, $"{t}: user_size {fps.UserSize} > NT_X86_XSTATE length {fs.UserCfg.MaxSize}"));
            }
            if (t != t.Leader)
                continue;
            ulong perm = fpu.Perm.StatePerm & ~FpuSystem.GuestPermLocked;
            if ((perm & supervisorDefaults) != supervisorDefaults)
                bad.Add(new(PermKeepsSupervisor, $"{t}: perm 0x{perm:x} lost supervisor bits 0x{supervisorDefaults & ~perm:x}"));
            ulong gperm = fpu.GuestPerm.StatePerm & ~FpuSystem.GuestPermLocked;
            ulong gdefaults = fs.GuestDefaultCfg.Features;
            if ((gperm & gdefaults) != gdefaults)
                bad.Add(new(GuestPermCoversGuestState, $"{t}: guest_perm 0x{gperm:x} lacks guest defaults 0x{gdefaults & ~gperm:x}"));
            foreach (var (name, p) in new[] { ("perm", fpu.Perm), ("guest_perm", fpu.GuestPerm) })
            {
                ulong mask = p.StatePerm & ~FpuSystem.GuestPermLocked;
                int need = fs.CalculateSize(mask, fs.Compacted);
                if (p.StateSize < need)
                    bad.Add(new(PermSize, $"{t}: {name} __state_size {p.StateSize} < {need} for 0x{mask:x}"));
            }
        }

        foreach (var vc in vcpus)
        {
            if (vc.Destroyed || vc.Fpu.FpState is not { } gf)
                continue;
            ulong owner = vc.Fpu.Owner.Leader.Fpu.GuestPerm.StatePerm & ~FpuSystem.GuestPermLocked;
            if ((gf.Xfeatures & ~owner) != 0)
                bad.Add(new(GuestPermCoversGuestState, $"vCPU {vc.Id}: guest_perm 0x{owner:x} does not cover {gf} (0x{gf.Xfeatures & ~owner:x})"));
            if (!v.DeferredGuestSupervisor && (gf.Xfeatures & fs.GuestDefaultCfg.Features) != fs.GuestDefaultCfg.Features)
                bad.Add(new(GuestFpstateDefaults, $"vCPU {vc.Id}: {gf} lacks guest defaults 0x{fs.GuestDefaultCfg.Features & ~gf.Xfeatures:x}"));
            ulong enableable = vc.GuestSupportedXcr0 | vc.GuestSupportedXss;
            if ((enableable & ~gf.Xfeatures) != 0)
                bad.Add(new(VcpuXrstorsAdvertised, $"vCPU {vc.Id}: CPUID allows 0x{enableable:x}, {gf} has no room for 0x{enableable & ~gf.Xfeatures:x}"));
            int need = sys.Caps.XstateRequiredSize(vc.GuestSupportedXcr0, false);
            if (vc.Fpu.UabiSize < need)
                bad.Add(new(UabiSizes, $"vCPU {vc.Id}: KVM_GET_XSAVE2 buffer {vc.Fpu.UabiSize} < {need} for guest XCR0 0x{vc.GuestSupportedXcr0:x}"));
            int cap = sys.Caps.Xsave2Size(kernel.GroupPerm(sys.Task, guest: true));
            if (cap < vc.Fpu.UabiSize)
                bad.Add(new(UabiSizes, $"vCPU {vc.Id}: KVM_CAP_XSAVE2 {cap} < the vCPU's uabi_size {vc.Fpu.UabiSize}"));
        }
        return bad;
    }

    private static IEnumerable<FpState> HostFpstates(Fpu fpu)
    {
        if (!fpu.FpState.IsGuest)
            yield return fpu.FpState;
        if (fpu.TaskFpState is { } host)
            yield return host;
    }
}
