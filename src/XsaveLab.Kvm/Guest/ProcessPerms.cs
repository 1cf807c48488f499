using XsaveLab.Arch.Features;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Kvm.Guest;

/// <summary>One <c>struct fpu_state_perm</c>: permitted features (with software flags), kernel and UABI sizes.</summary>
public sealed record StatePerm(ulong StatePermMask, int StateSize, int UserStateSize)
{
    /// <summary>FPU_GUEST_PERM_LOCKED: bit 63 of <c>__state_perm</c>, set when the first vCPU is created.</summary>
    public const ulong GuestPermLocked = 1UL << 63;

    public bool Locked => (StatePermMask & GuestPermLocked) != 0;
}

/// <summary>The thread-group leader's permissions of a VMM process (<c>fpu->perm</c>, <c>fpu->guest_perm</c>) and
/// the <c>arch_prctl(ARCH_*_XCOMP_*)</c> calls on them.</summary>
/// <remarks><c>fpu_xstate_prctl()</c>, <c>xstate_request_perm()</c>, <c>__xstate_request_perm()</c>
/// (linux-fpu.md §4); the ≤6.15 clobbering of non-user bits (fixed by d8414603b29f) is reproduced under 6.15.</remarks>
public sealed class ProcessPerms
{
    public const int ArchGetXcompSupp = 0x1021;
    public const int ArchGetXcompPerm = 0x1022;
    public const int ArchReqXcompPerm = 0x1023;
    public const int ArchGetXcompGuestPerm = 0x1024;
    public const int ArchReqXcompGuestPerm = 0x1025;

    private readonly HostFpuConfig _cfg;

    public ProcessPerms(HostFpuConfig cfg)
    {
        _cfg = cfg;
        Perm = new StatePerm(cfg.KernelDefaultFeatures, cfg.KernelDefaultSize, cfg.UserDefaultSize);
        // 6.17 (7c2c89364d92): guest permissions start from the guest defaults; before, a copy of perm.
        var (gf, gs) = cfg.InitialGuestPerm;
        GuestPerm = new StatePerm(gf, gs, cfg.UserDefaultSize);
    }

    public StatePerm Perm { get; private set; }
    public StatePerm GuestPerm { get; private set; }

    /// <summary>Features userspace reads back (GET_XCOMP_GUEST_PERM masks with USER_SUPPORTED).</summary>
    public ulong VisibleGuestPerm => GuestPerm.StatePermMask & XFeatureMasks.UserSupported;

    /// <summary><c>xstate_get_guest_group_perm()</c>: what KVM filters supported XCR0 with.</summary>
    public ulong GuestGroupPerm => GuestPerm.StatePermMask;

    /// <summary><c>fpu_lock_guest_permissions()</c>, called by <c>fpu_alloc_guest_fpstate()</c>.</summary>
    public void LockGuestPermissions() =>
        GuestPerm = GuestPerm with { StatePermMask = GuestPerm.StatePermMask | StatePerm.GuestPermLocked };

    /// <summary><c>arch_prctl(option, arg)</c>; GET options return the value in <see cref="SysResult.Value"/>.</summary>
    public SysResult ArchPrctl(int option, ulong arg)
    {
        switch (option)
        {
            case ArchGetXcompSupp:
                return SysResult.Success((long)(_cfg.UserMaxFeatures | (_cfg.XsaveEnabled ? XFeatureMasks.FpSse : XFeatureMasks.FpSse)), "fpu_user_cfg.max_features | legacy_features");
            case ArchGetXcompPerm:
                return SysResult.Success((long)(Perm.StatePermMask & XFeatureMasks.UserSupported), "perm & USER_SUPPORTED");
            case ArchGetXcompGuestPerm:
                return SysResult.Success((long)VisibleGuestPerm, "guest_perm & USER_SUPPORTED");
            case ArchReqXcompPerm:
                return RequestPerm(arg, guest: false);
            case ArchReqXcompGuestPerm:
                return RequestPerm(arg, guest: true);
            default:
                return SysResult.Fail(Errno.EINVAL, "unknown arch_prctl option");
        }
    }

    private SysResult RequestPerm(ulong idx, bool guest)
    {
        if (idx >= XFeatureTable.Count)
            return SysResult.Fail(Errno.EINVAL, "feature number >= XFEATURE_MAX");
        if (idx != 18)
            return SysResult.Fail(Errno.EOPNOTSUPP, "only XTILE_DATA (18) can be requested (xstate_prctl_req[])");
        ulong requested = XFeatureMasks.XtileData;
        if ((requested & ~_cfg.UserMaxFeatures) != 0)
            return SysResult.Fail(Errno.EOPNOTSUPP, "AMX tile data not in fpu_user_cfg.max_features (no AMX or no XFD)");
        var cur = guest ? GuestPerm : Perm;
        if ((requested & ~cur.StatePermMask) == 0)
            return SysResult.Success(0, "already permitted");
        if (guest && cur.Locked)
            return SysResult.Fail(Errno.EBUSY, "guest permissions locked by the first KVM_CREATE_VCPU");

        ulong mask = cur.StatePermMask | requested;
        StatePerm next;
        if (!_cfg.Variant.StatePermPreservesNonUser)
        {
            // Pre-d8414603b29f: supervisor bits added for host perms only, then the stored mask is cut to user bits.
            ulong sizing = guest ? mask : mask | (_cfg.KernelMaxFeatures & _cfg.SupervisorSupported);
            int ksize = _cfg.CalculateSize(sizing, _cfg.Compacted);
            ulong user = mask & XFeatureMasks.UserSupported;
            next = new StatePerm(user, ksize, _cfg.CalculateSize(user, false));
        }
        else
        {
            next = new StatePerm(mask, _cfg.CalculateSize(mask, _cfg.Compacted),
                _cfg.CalculateSize(mask & XFeatureMasks.UserSupported, false));
        }
        if (guest) GuestPerm = next; else Perm = next;
        return SysResult.Success(0, $"{(guest ? "guest_perm" : "perm")} = 0x{next.StatePermMask:x}, size {next.StateSize}");
    }
}
