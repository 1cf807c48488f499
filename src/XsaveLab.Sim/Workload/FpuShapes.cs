namespace XsaveLab.Sim.Workload;

/// <summary>The fpstate shapes a booted system hands out, from the kernel model's own rules
/// (<see cref="FpStateShape.Reset"/>, <see cref="FpStateShape.Realloc(FpuSystem, ulong)"/>).</summary>
/// <remarks>
/// Host tasks: <c>__fpstate_reset()</c>. vCPUs: <c>fpu_alloc_guest_fpstate()</c>; under the deferred model a
/// guest that uses CET gets its guest-only supervisor features by reallocation
/// (<c>fpu_enable_guest_xfd_features()</c> extended to them), so it ends with its defaults ∪
/// (max ∩ GUEST_SUPERVISOR). AMX users: after ARCH_REQ_XCOMP_PERM and the first #NM, <c>fpstate_realloc()</c>
/// adds the permitted dynamic features (XTILE_DATA).
/// </remarks>
public sealed record FpuShapes(FpStateShape Task, FpStateShape Vcpu, FpStateShape? Amx)
{
    public static FpuShapes Of(FpuSystem sys, bool guestUsesCet = true)
    {
        ulong max = sys.KernelCfg.MaxFeatures;
        var task = FpStateShape.Reset(sys, guest: false);
        var vcpu = FpStateShape.Reset(sys, guest: true);
        if (sys.Variant.DeferredGuestSupervisor && guestUsesCet)
            vcpu = vcpu.Realloc(sys, max & sys.Variant.GuestSupervisorMask);
        FpStateShape? amx = (max & XFeatureMasks.UserDynamic) != 0 ? task.Realloc(sys, max & XFeatureMasks.UserDynamic) : null;
        return new FpuShapes(task, vcpu, amx);
    }
}
