using System.Buffers.Binary;
using XsaveLab.Arch.Features;
using XsaveLab.Arch.Layout;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Kvm.Guest;

/// <summary><c>struct fpu_guest</c> and the guest FPU API KVM calls (arch/x86/kernel/fpu/core.c, linux-fpu.md §6).</summary>
public sealed class FpuGuest
{
    private readonly HostFpuConfig _cfg;
    private readonly ProcessPerms _perms;

    private FpuGuest(HostFpuConfig cfg, ProcessPerms perms, FpState fps, ulong xfeatures, int uabiSize)
    {
        _cfg = cfg;
        _perms = perms;
        Fpstate = fps;
        Xfeatures = xfeatures;
        UabiSize = uabiSize;
        Perm = cfg.Variant.FpuGuestHasPerm ? xfeatures : null;
        InitialSize = fps.Size;
        InitialFeatures = fps.Xfeatures;
    }

    /// <summary>Size and features the fpstate had when the vCPU was created (before any reallocation).</summary>
    public int InitialSize { get; }
    public ulong InitialFeatures { get; }

    /// <summary>Features enabled (allocated) for the vCPU.</summary>
    public ulong Xfeatures { get; private set; }

    /// <summary>≤6.15 only: the never-read <c>perm</c> field dropped by 32d5fa804dc9.</summary>
    public ulong? Perm { get; }

    /// <summary>Guest IA32_XFD_ERR, managed by KVM.</summary>
    public ulong XfdErr { get; set; }

    /// <summary>Size of the KVM_GET_XSAVE2 buffer.</summary>
    public int UabiSize { get; private set; }

    public FpState? Fpstate { get; private set; }

    /// <summary>Model notes recorded while the API ran (e.g. state dropped by a reallocation).</summary>
    public List<string> Notes { get; } = [];

    /// <summary><c>fpu_alloc_guest_fpstate()</c>: size and features per variant, xfd 0, guest permission locked.</summary>
    /// <remarks>6.17: guest_default_cfg; 6.15/6.16: fpu_kernel_cfg defaults (1937e18cc3cf); case3: kernel defaults
    /// (which include CET-S); deferred: host defaults, CET-S added later by <see cref="EnableGuestSupervisorFeatures"/>.</remarks>
    public static FpuGuest Alloc(HostFpuConfig cfg, ProcessPerms perms)
    {
        var (size, features) = cfg.NewGuestFpstate;
        var fps = new FpState(size, isGuest: true)
        {
            IsValloc = true,
            Xfeatures = features,
            Xfd = 0,
            UserSize = cfg.UserDefaultSize,
            UserXfeatures = cfg.UserDefaultFeatures,
        };
        fps.InitUser(cfg.Compacted);
        int uabi = HostFpuConfig.KvmXsaveSize;
        if (cfg.UserDefaultSize > uabi)
            uabi = cfg.UserDefaultSize;
        perms.LockGuestPermissions();
        return new FpuGuest(cfg, perms, fps, features, uabi);
    }

    /// <summary><c>fpu_free_guest_fpstate()</c>: refused while the fpstate is in use.</summary>
    public bool Free()
    {
        if (Fpstate is null)
            return true;
        if (!Fpstate.IsValloc || !Fpstate.IsGuest || Fpstate.InUse)
            return false;
        Fpstate = null;
        return true;
    }

    /// <summary><c>fpu_enable_guest_xfd_features()</c> → <c>__xfd_enable_feature(xfeatures, gfpu)</c>.</summary>
    public SysResult EnableGuestXfdFeatures(ulong xfeatures, HostCpu? host)
    {
        xfeatures &= ~Xfeatures;
        if (xfeatures == 0)
            return SysResult.Success(0, "already enabled");
        ulong ev = xfeatures & XFeatureMasks.UserDynamic;
        if (ev == 0)
            return SysResult.Success(0, "no dynamic feature");
        var perm = _perms.GuestPerm;
        if ((ev & ~perm.StatePermMask) != 0)
            return SysResult.Fail(Errno.EPERM, $"guest permission lacks {XFeatureTable.Describe(ev)} (ARCH_REQ_XCOMP_GUEST_PERM not granted)");
        Realloc(ev, perm.StateSize, perm.UserStateSize, host);
        return SysResult.Success(0, $"guest fpstate reallocated to {perm.StateSize} bytes");
    }

    /// <summary>The <c>deferred</c> variant's growth step: add guest-only supervisor features by reallocation.</summary>
    public SysResult EnableGuestSupervisorFeatures(HostCpu? host)
    {
        ulong want = _cfg.KernelMaxFeatures & _cfg.GuestSupervisorMask & ~Xfeatures;
        if (want == 0)
            return SysResult.Success(0, "nothing to add");
        ulong nf = Fpstate!.Xfeatures | want;
        Realloc(want, _cfg.CalculateSize(nf, _cfg.Compacted), Fpstate.UserSize, host, userVisible: false);
        return SysResult.Success(0, $"guest fpstate reallocated for {XFeatureTable.Describe(want)}");
    }

    /// <summary><c>fpstate_realloc()</c> for a guest: a zeroed buffer; registers stay live when in use.</summary>
    private void Realloc(ulong xfeatures, int ksize, int usize, HostCpu? host, bool userVisible = true)
    {
        var cur = Fpstate!;
        bool inUse = host is not null && ReferenceEquals(host.Active, cur);
        var nf = new FpState(ksize, isGuest: true)
        {
            IsValloc = true,
            IsConfidential = cur.IsConfidential,
            InUse = cur.InUse,
            UserSize = userVisible ? usize : cur.UserSize,
            Xfeatures = cur.Xfeatures | xfeatures,
            UserXfeatures = userVisible ? cur.UserXfeatures | xfeatures : cur.UserXfeatures,
            Xfd = cur.Xfd & ~xfeatures,
        };
        Xfeatures |= xfeatures;
        if (userVisible)
            UabiSize = usize;
        nf.InitXcompBv(_cfg.Compacted);
        if (!inUse && cur.XstateBv != 0)
            Notes.Add($"fpstate_realloc: the vCPU was not running, so the old buffer's state (XSTATE_BV 0x{cur.XstateBv:x}) is not carried into the zeroed new one");
        Fpstate = nf;
        if (inUse)
        {
            host!.Active = nf;
            host.XfdUpdateState(nf);
        }
    }

    /// <summary><c>fpu_update_guest_xfd()</c>: set fpstate->xfd and, when the fpstate is live, the MSR.</summary>
    public void UpdateGuestXfd(ulong xfd, HostCpu host)
    {
        Fpstate!.Xfd = xfd;
        if (Fpstate.InUse)
            host.XfdUpdateState(Fpstate);
    }

    /// <summary><c>fpu_swap_kvm_fpstate(gfpu, enter_guest)</c>.</summary>
    public Arch.Machine.XsaveFault Swap(HostCpu host, bool enterGuest)
    {
        var cur = host.Active;
        var f = host.SaveTo(cur);
        if (f.IsFault)
            return f;
        if (enterGuest)
        {
            host.SavedTaskFpstate = cur;
            host.Active = Fpstate!;
            Fpstate!.InUse = true;
        }
        else
        {
            Fpstate!.InUse = false;
            host.Active = host.SavedTaskFpstate ?? host.TaskFpstate;
            host.SavedTaskFpstate = null;
        }
        return host.RestoreFrom(host.Active);
    }

    /// <summary><c>fpu_copy_guest_fpstate_to_uabi()</c> → <c>__copy_xstate_to_uabi_buf(…, XSTATE_COPY_XSAVE)</c>.</summary>
    /// <remarks>Without XSAVE: the 512-byte FXSAVE area with header.xfeatures = FP|SSE, so that it can be restored
    /// on an XSAVE host.</remarks>
    public void CopyToUabi(Span<byte> buf, ulong xfeatures, uint pkru)
    {
        if (_cfg.XsaveEnabled)
        {
            UabiCopy.ToUabi(_cfg, Fpstate!, buf, xfeatures, pkru);
            return;
        }
        buf.Clear();
        Fpstate!.Regs.AsSpan(0, 512).CopyTo(buf);
        BinaryPrimitives.WriteUInt64LittleEndian(buf[512..], XFeatureMasks.FpSse);
    }

    /// <summary><c>fpu_copy_uabi_to_guest_fpstate(gfpu, buf, xcr0, vpkru)</c>: header.xfeatures ⊆ xcr0, then
    /// <c>copy_uabi_from_kernel_to_xstate()</c>, with the vCPU's PKRU updated only when the image has PKRU.</summary>
    public SysResult CopyFromUabi(ReadOnlySpan<byte> buf, ulong xcr0, ref uint vpkru)
    {
        ulong xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(buf[512..]);
        if (!_cfg.XsaveEnabled)
        {
            if ((xstateBv & ~XFeatureMasks.FpSse) != 0)
                return SysResult.Fail(Errno.EINVAL, "header.xfeatures beyond FP|SSE without XSAVE");
            buf[..512].CopyTo(Fpstate!.Regs);
            return SysResult.Success();
        }
        if ((xstateBv & ~xcr0) != 0)
            return SysResult.Fail(Errno.EINVAL, $"header.xfeatures 0x{xstateBv:x} not within supported XCR0 0x{xcr0:x}");
        uint dummy = 0;
        return (xstateBv & XFeatureMasks.Pkru) != 0
            ? UabiCopy.FromUabi(_cfg, Fpstate!, buf, ref vpkru, true)
            : UabiCopy.FromUabi(_cfg, Fpstate!, buf, ref dummy, false);
    }

    internal static int StandardOffset(HostFpuConfig cfg, int i) => cfg.Cpu.Component(i)?.StandardOffset ?? -1;

    internal static int KernelOffset(HostFpuConfig cfg, FpState fps, int i) =>
        XStateGeometry.Offset(cfg.Cpu, fps.XcompBv, i, cfg.Compacted);
}
