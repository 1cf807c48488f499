using XsaveLab.Arch.Features;
using XsaveLab.Arch.Machine;
using XsaveLab.Kernel.Boot;

namespace XsaveLab.Sim.Workload;

/// <summary>The xfeatures and buffer size of one kind of <c>struct fpstate</c>.</summary>
public readonly record struct FpstateShape(ulong Xfeatures, int Size, bool IsGuest);

/// <summary>The fpstate shapes a booted system hands out.</summary>
/// <remarks>
/// Host tasks: <c>fpu_kernel_cfg.default_features/default_size</c> (<c>fpstate_reset()</c>).
/// vCPUs: <c>fpu_alloc_guest_fpstate()</c> — <c>guest_default_cfg</c> on 6.17, kernel defaults before; under the
/// deferred model a guest that uses CET gets its guest-only supervisor features by reallocation
/// (<c>fpu_enable_guest_xfd_features()</c> extended as Chang Bae proposed), so it ends with defaults ∪
/// (max ∩ GUEST_SUPERVISOR) sized by <c>xstate_calculate_size()</c>.
/// AMX users: after ARCH_REQ_XCOMP_PERM and the first #NM, <c>fpstate_realloc()</c> gives defaults ∪ the
/// permitted dynamic features (XTILE_DATA).
/// </remarks>
public sealed record FpuShapes(FpstateShape Task, FpstateShape Vcpu, FpstateShape? Amx, SaveInstruction Save, ulong RestoreMask, bool Compacted)
{
    public static FpuShapes Of(FpuSystem sys, bool guestUsesCet = true)
    {
        var k = sys.KernelCfg;
        var task = new FpstateShape(k.DefaultFeatures, k.DefaultSize, false);
        FpstateShape vcpu;
        if (sys.Variant.DeferredGuestSupervisor)
        {
            ulong f = sys.GuestDefaultCfg.Features | (guestUsesCet ? k.MaxFeatures & sys.Variant.GuestSupervisorMask : 0);
            vcpu = new FpstateShape(f, sys.CalculateSize(f, sys.Compacted), true);
        }
        else
            vcpu = new FpstateShape(sys.GuestDefaultCfg.Features, sys.GuestDefaultCfg.Size, true);
        FpstateShape? amx = null;
        if ((k.MaxFeatures & XFeatureMasks.UserDynamic) != 0)
        {
            ulong f = k.DefaultFeatures | (k.MaxFeatures & XFeatureMasks.UserDynamic);
            amx = new FpstateShape(f, sys.CalculateSize(f, sys.Compacted), false);
        }
        return new FpuShapes(task, vcpu, amx, sys.SaveInstruction, sys.RestoreMask, sys.Compacted);
    }
}
