namespace XsaveLab.Kvm.Vm;

public sealed partial class KvmVcpu
{
    /// <summary><c>MSR_KVM_INTERNAL_GUEST_SSP</c> (arch/x86/kvm/x86.h, 6.18): the index KVM translates
    /// KVM_REG_GUEST_SSP to before it takes the MSR path. Not ABI: a guest RDMSR/WRMSR of it is refused
    /// (<c>__kvm_get_msr()</c>/<c>__kvm_set_msr()</c> return 1 unless host-initiated).</summary>
    internal const uint InternalGuestSspMsr = 0x4b564dff;

    /// <summary>The guest's current shadow-stack pointer: the VMCS guest-state field GUEST_SSP on VMX, <c>save.ssp</c>
    /// in the VMCB save area on SVM. 0 on a new vCPU (<c>vmx_vcpu_reset()</c> writes 0; the VMCB page is allocated
    /// zeroed). VM entry loads it into SSP and VM exit stores SSP back (VM_ENTRY_LOAD_CET_STATE); it is not part of
    /// any XSAVE component, so KVM_GET_XSAVE2 and KVM_GET_MSRS do not carry it: only KVM_GET_ONE_REG does.</summary>
    public ulong Ssp { get; private set; }

    /// <summary>Where <see cref="Ssp"/> lives on this host.</summary>
    public string SspLocation => SspLocationOn(Caps.Svm);

    /// <summary>Where the guest SSP lives on SVM (<paramref name="svm"/>) or VMX.</summary>
    public static string SspLocationOn(bool svm) =>
        svm ? "VMCB save area (save.ssp), only KVM_GET_ONE_REG reaches it" : "VMCS guest-state field GUEST_SSP, only KVM_GET_ONE_REG reaches it";

    /// <summary>A ONE_REG id as reports name it: KVM_REG_GUEST_SSP, an MSR's name, or the id in hex.</summary>
    public static string RegName(ulong id) =>
        id == KvmAbi.RegGuestSspId ? "KVM_REG_GUEST_SSP"
        : (id & ~0xffffffffUL) == (KvmAbi.RegMsr(0) & ~0xffffffffUL) ? MsrNames.Name((uint)id)
        : $"0x{id:x}";

    /// <summary>KVM_GET_ONE_REG: <c>kvm_get_set_one_reg()</c> → <c>kvm_get_one_msr()</c> (arch/x86/kvm/x86.c, 6.18).</summary>
    public SysResult GetOneReg(ulong id, out ulong value)
    {
        value = 0;
        var r = OneReg(id, null);
        if (r.Result.Ok)
            value = r.Value;
        return r.Result;
    }

    /// <summary>KVM_SET_ONE_REG: <c>kvm_get_set_one_reg()</c> → <c>kvm_set_one_msr()</c>.</summary>
    public SysResult SetOneReg(ulong id, ulong value) => OneReg(id, value).Result;

    /// <summary><c>kvm_get_set_one_reg()</c>: the id must be an x86 one with the reserved bits clear; a KVM-type id is
    /// translated (<c>kvm_translate_kvm_reg()</c>: only KVM_REG_GUEST_SSP, and only for a guest with SHSTK, becomes
    /// MSR_KVM_INTERNAL_GUEST_SSP); then the type must be MSR and the size 64 bits, and the access is a host-initiated
    /// one (<c>do_get_msr()</c>/<c>do_set_msr()</c>, the guest FPU loaded for an XSAVE-managed MSR). Every refusal
    /// is -EINVAL. Before 6.18 x86 has no such ioctl: -EINVAL from <c>kvm_arch_vcpu_ioctl()</c>.</summary>
    private (SysResult Result, ulong Value) OneReg(ulong id, ulong? write)
    {
        if (Dead() is { } d) return (d, 0);
        string ioctl = write is null ? "KVM_GET_ONE_REG" : "KVM_SET_ONE_REG";
        if (!Caps.Release.HasOneReg())
            return (SysResult.Fail(Errno.EINVAL, $"KVM {Caps.Release.Name()}: kvm_arch_vcpu_ioctl() has no {ioctl} on x86 (added in 6.18)"), 0);
        if ((id & KvmAbi.RegArchMask) != KvmAbi.RegX86)
            return (SysResult.Fail(Errno.EINVAL, $"id 0x{id:x}: not KVM_REG_X86"), 0);
        byte type = (byte)(id >> 32);
        if ((byte)(id >> 40) != 0 || (id >> 48 & 0xf) != 0)
            return (SysResult.Fail(Errno.EINVAL, $"id 0x{id:x}: reserved bits set (kvm_x86_reg_id rsvd1/rsvd2)"), 0);
        uint index = (uint)id;
        if (type == KvmAbi.RegTypeKvm)
        {
            if (index != KvmAbi.RegGuestSsp)
                return (SysResult.Fail(Errno.EINVAL, $"kvm_translate_kvm_reg(): no KVM-defined register {index}"), 0);
            if (!GuestShstk)
                return (SysResult.Fail(Errno.EINVAL, "kvm_translate_kvm_reg(): KVM_REG_GUEST_SSP without SHSTK in guest CPUID"), 0);
            type = KvmAbi.RegTypeMsr;
            index = InternalGuestSspMsr;
        }
        if (type != KvmAbi.RegTypeMsr)
            return (SysResult.Fail(Errno.EINVAL, $"id 0x{id:x}: type {type} is neither KVM_X86_REG_TYPE_MSR nor KVM_X86_REG_TYPE_KVM"), 0);
        if ((id & KvmAbi.RegSizeMask) != KvmAbi.RegSizeU64)
            return (SysResult.Fail(Errno.EINVAL, $"id 0x{id:x}: size is not KVM_REG_SIZE_U64"), 0);
        string name = index == InternalGuestSspMsr ? "SSP" : MsrNames.Name(index);
        var (st, v) = HostAccess(index, write);
        if (st != MsrStatus.Ok)
            return (SysResult.Fail(Errno.EINVAL, write is { } w
                ? $"kvm_set_one_msr(): do_set_msr({name}, 0x{w:x}) refused"
                : $"kvm_get_one_msr(): do_get_msr({name}) refused"), 0);
        return (SysResult.Success(0, write is { } x ? $"{name} = 0x{x:x}" : $"{name} = 0x{v:x}"), v);
    }

    /// <summary>KVM_GET_REG_LIST: <c>kvm_get_reg_list()</c> lists only KVM-defined registers (MSRs are listed by
    /// KVM_GET_MSR_INDEX_LIST): KVM_REG_GUEST_SSP when the guest has SHSTK, nothing otherwise. It writes the count
    /// to <c>n</c> first (<paramref name="count"/>), then fails with -E2BIG when the caller's
    /// <paramref name="capacity"/> is smaller. Before 6.18: -EINVAL.</summary>
    public SysResult GetRegList(ulong capacity, out ulong count, out IReadOnlyList<ulong> ids)
    {
        count = 0;
        ids = [];
        if (Dead() is { } d) return d;
        if (!Caps.Release.HasOneReg())
            return SysResult.Fail(Errno.EINVAL, $"KVM {Caps.Release.Name()}: kvm_arch_vcpu_ioctl() has no KVM_GET_REG_LIST on x86 (added in 6.18)");
        count = GuestShstk ? 1UL : 0;
        if (capacity < count)
            return SysResult.Fail(Errno.E2BIG, $"kvm_get_reg_list(): n = {count} > the caller's {capacity}");
        ids = GuestShstk ? [KvmAbi.RegGuestSspId] : [];
        return SysResult.Success(0, $"n = {count}");
    }

    /// <summary>A host-initiated access to MSR_KVM_INTERNAL_GUEST_SSP (<c>__kvm_get_msr()</c>/<c>__kvm_set_msr()</c>,
    /// <c>vmx_set_msr()</c>/<c>svm_set_msr()</c>): needs SHSTK in guest CPUID; a write must be canonical and 4-byte
    /// aligned, like PL0–3_SSP.</summary>
    private (MsrStatus, ulong) AccessSsp(ulong? write, bool hostInitiated)
    {
        if (!hostInitiated) return (MsrStatus.Invalid, 0);
        if (!Caps.Release.HasCet() || !GuestShstk) return (MsrStatus.Unsupported, 0);
        if (write is { } w)
        {
            if (XsaveDataRules.SspViolation(w, 48) is not null) return (MsrStatus.Invalid, 0);
            Ssp = w;
        }
        return (MsrStatus.Ok, Ssp);
    }
}
