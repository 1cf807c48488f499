namespace XsaveLab.Kvm.Vm;

/// <summary>Outcome of one MSR access inside KVM: done, refused (guest #GP / ioctl stops), or an MSR the vCPU lacks.</summary>
public enum MsrStatus
{
    Ok,
    Invalid,
    Unsupported,
}

public sealed partial class KvmVcpu
{
    /// <summary>KVM_GET_MSRS: entries are processed in order until one fails; returns how many succeeded.</summary>
    public SysResult GetMsrs(IReadOnlyList<uint> indices, out ulong[] values)
    {
        values = new ulong[indices.Count];
        if (Dead() is { } d) return d;
        int n = 0;
        for (; n < indices.Count; n++)
        {
            var (st, v) = HostAccess(indices[n], null);
            if (st != MsrStatus.Ok)
                break;
            values[n] = v;
        }
        return SysResult.Success(n, n == indices.Count ? "all processed" : $"stopped at {MsrNames.Name(indices[n])}");
    }

    /// <summary>KVM_SET_MSRS: same counting rule.</summary>
    public SysResult SetMsrs(IReadOnlyList<(uint Index, ulong Value)> msrs)
    {
        if (Dead() is { } d) return d;
        int n = 0;
        for (; n < msrs.Count; n++)
            if (HostAccess(msrs[n].Index, msrs[n].Value).Status != MsrStatus.Ok)
                break;
        return SysResult.Success(n, n == msrs.Count ? "all processed" : $"stopped at {MsrNames.Name(msrs[n].Index)}");
    }

    /// <summary>A host-initiated access (<c>kvm_do_msr_access()</c>): an MSR the vCPU lacks still reads as 0 and
    /// accepts 0 when KVM advertises it in KVM_GET_MSR_INDEX_LIST. XSAVE-managed MSRs are accessed with the guest
    /// FPU loaded.</summary>
    private (MsrStatus Status, ulong Value) HostAccess(uint msr, ulong? write)
    {
        bool managed = IsXstateManaged(msr);
        // The ioctl runs in the kernel: the MSR instructions execute at CPL 0 on the vCPU thread's CPU.
        int cpl = Sys.Cpu.Cpl;
        Sys.Cpu.Cpl = 0;
        if (managed)
            K.FpuSwapKvmFpstate(T, Fpu, enterGuest: true);
        var r = write is { } w ? (SetMsr(msr, w, true), w) : GetMsr(msr, true);
        if (managed)
            K.FpuSwapKvmFpstate(T, Fpu, enterGuest: false);
        Sys.Cpu.Cpl = cpl;
        if (r.Item1 == MsrStatus.Unsupported && Caps.MsrsToSave().Contains(msr) && (write is null || write == 0))
            return (MsrStatus.Ok, 0);
        return r;
    }

    /// <summary>KVM's <c>is_xstate_managed_msr()</c> (6.18): U_CET with SHSTK or IBT, PL0–3_SSP with SHSTK.</summary>
    public bool IsXstateManaged(uint msr) => msr switch
    {
        Msr.IA32_U_CET => GuestShstk || GuestIbt,
        >= Msr.IA32_PL0_SSP and <= Msr.IA32_PL3_SSP => GuestShstk,
        _ => false,
    };

    /// <summary>Where an MSR's guest value lives: the XSAVE component of the guest fpstate, or outside it: a VMCS
    /// guest-state field on VMX (GUEST_S_CET, GUEST_INTR_SSP_TABLE), the VMCB save area on SVM (<c>save.s_cet</c>,
    /// <c>save.isst_addr</c>; APM Vol. 2 "VMCB State Save Area"), or a KVM field.</summary>
    public static string Location(uint msr, bool svm) => msr switch
    {
        Msr.IA32_U_CET or Msr.IA32_PL3_SSP => "guest fpstate, CET_U (xfeature 11)",
        Msr.IA32_PL0_SSP or Msr.IA32_PL1_SSP or Msr.IA32_PL2_SSP => "guest fpstate, CET_S (xfeature 12)",
        Msr.IA32_S_CET or Msr.IA32_INT_SSP_TAB => svm ? "VMCB save area (not XSAVE-managed)" : "VMCS guest-state field (not XSAVE-managed)",
        Msr.IA32_XFD => "guest fpstate->xfd (loaded into IA32_XFD while the guest FPU is active)",
        Msr.IA32_XFD_ERR => "fpu_guest.xfd_err (KVM-managed)",
        Msr.IA32_XSS => "vcpu->arch.ia32_xss (loaded at VM entry)",
        _ => "unknown",
    };

    /// <summary><c>kvm_get_msr_common()</c> for the modelled MSRs.</summary>
    private (MsrStatus, ulong) GetMsr(uint msr, bool hostInitiated)
    {
        switch (msr)
        {
            case Msr.IA32_XSS:
                if (!hostInitiated && !GuestXsaves) return (MsrStatus.Unsupported, 0);
                return (MsrStatus.Ok, Ia32Xss);
            case Msr.IA32_XFD:
                if (!hostInitiated && !GuestXfd) return (MsrStatus.Unsupported, 0);
                return (MsrStatus.Ok, Fpu.FpState!.Xfd);
            case Msr.IA32_XFD_ERR:
                if (!hostInitiated && !GuestXfd) return (MsrStatus.Unsupported, 0);
                return (MsrStatus.Ok, Fpu.XfdErr);
            case Msr.IA32_U_CET or Msr.IA32_S_CET:
                if (!Caps.Release.HasCet() || (!GuestShstk && !GuestIbt)) return (MsrStatus.Unsupported, 0);
                return msr == Msr.IA32_S_CET ? (MsrStatus.Ok, SCet) : ReadLive(msr);
            case >= Msr.IA32_PL0_SSP and <= Msr.IA32_INT_SSP_TAB:
                if (!Caps.Release.HasCet() || !GuestShstk) return (MsrStatus.Unsupported, 0);
                return msr == Msr.IA32_INT_SSP_TAB ? (MsrStatus.Ok, IntSspTab) : ReadLive(msr);
            case InternalGuestSspMsr:
                return AccessSsp(null, hostInitiated);
            default:
                return (MsrStatus.Unsupported, 0);
        }
    }

    private (MsrStatus, ulong) ReadLive(uint msr)
    {
        var f = Sys.Cpu.Rdmsr(msr, out var v);
        return f.IsFault ? (MsrStatus.Invalid, 0) : (MsrStatus.Ok, v);
    }

    /// <summary><c>kvm_set_msr_common()</c> for the modelled MSRs.</summary>
    private MsrStatus SetMsr(uint msr, ulong data, bool hostInitiated)
    {
        switch (msr)
        {
            case Msr.IA32_XSS:
                // 6.18 refuses the write for a vCPU without XSAVES whoever makes it; the host-initiated write of 0
                // still succeeds through kvm_do_msr_access() because XSS is advertised. ≤6.17 let the host write any
                // value within supported_xss.
                if ((!hostInitiated || Caps.Release.HasCet()) && !GuestXsaves) return MsrStatus.Unsupported;
                if ((data & ~GuestSupportedXss) != 0) return MsrStatus.Invalid;
                Ia32Xss = data;
                if (_inGuest && Cr4OsXsave && GuestXsaves)
                    Sys.Cpu.Wrmsr(Msr.IA32_XSS, data);
                return MsrStatus.Ok;
            case Msr.IA32_XFD:
                if (!hostInitiated && !GuestXfd) return MsrStatus.Unsupported;
                if ((data & ~(GuestSupportedXcr0 & XFeatureMasks.UserDynamic)) != 0) return MsrStatus.Invalid;
                K.FpuUpdateGuestXfd(T, Fpu, data, Caps.Release.ClearsXfdDisabledState());
                return MsrStatus.Ok;
            case Msr.IA32_XFD_ERR:
                if (!hostInitiated && !GuestXfd) return MsrStatus.Unsupported;
                if ((data & ~(GuestSupportedXcr0 & XFeatureMasks.UserDynamic)) != 0) return MsrStatus.Invalid;
                Fpu.XfdErr = data;
                if (_inGuest)
                    Sys.Cpu.Wrmsr(Msr.IA32_XFD_ERR, data);
                return MsrStatus.Ok;
            case Msr.IA32_U_CET or Msr.IA32_S_CET:
                if (!Caps.Release.HasCet() || (!GuestShstk && !GuestIbt)) return MsrStatus.Unsupported;
                if (!ValidUsCet(data)) return MsrStatus.Invalid;
                if (msr == Msr.IA32_S_CET) { SCet = data; return MsrStatus.Ok; }
                return WriteLive(msr, data);
            case >= Msr.IA32_PL0_SSP and <= Msr.IA32_INT_SSP_TAB:
                if (!Caps.Release.HasCet() || !GuestShstk) return MsrStatus.Unsupported;
                if (XsaveDataRules.SspViolation(data, 48, requireAlignment: msr != Msr.IA32_INT_SSP_TAB) is not null) return MsrStatus.Invalid;
                if (msr == Msr.IA32_INT_SSP_TAB) { IntSspTab = data; return MsrStatus.Ok; }
                return WriteLive(msr, data);
            case InternalGuestSspMsr:
                return AccessSsp(data, hostInitiated).Item1;
            default:
                return MsrStatus.Unsupported;
        }
    }

    /// <summary>Bits 13:12: <c>!IS_ALIGNED(CET_US_LEGACY_BITMAP_BASE(data), 4)</c> in <c>kvm_is_valid_u_s_cet()</c>.</summary>
    private const ulong KvmLegacyBitmapLowBits = 0x3000;

    private MsrStatus WriteLive(uint msr, ulong data) =>
        Sys.Cpu.Wrmsr(msr, data).IsFault ? MsrStatus.Invalid : MsrStatus.Ok;

    /// <summary><c>kvm_is_valid_u_s_cet()</c>: reserved bits 9:6, SHSTK bits need SHSTK, IBT bits need IBT, the
    /// legacy-bitmap base (<c>data &gt;&gt; 12</c>) must be 4-aligned, i.e. bits 13:12 clear (a 16 KiB aligned base),
    /// SUPPRESS with WAIT_ENDBR is invalid. No canonical check: KVM leaves that to the hardware.</summary>
    private bool ValidUsCet(ulong data)
    {
        if ((data & XsaveDataRules.CetReservedBits) != 0) return false;
        if (!GuestShstk && (data & XsaveDataRules.CetShstkBits) != 0) return false;
        if (!GuestIbt && (data & XsaveDataRules.CetIbtBits) != 0) return false;
        if ((data & KvmLegacyBitmapLowBits) != 0) return false;
        return XsaveDataRules.CetControlBitsViolation(data) is null;
    }
}
