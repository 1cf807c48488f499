using XsaveLab.Kvm.Caps;
using XsaveLab.Kvm.Guest;

namespace XsaveLab.Kvm.Vm;

/// <summary>A VMM process with /dev/kvm open: its FPU permissions, the CPU its thread runs on, and the system ioctls.</summary>
public sealed class KvmSystem
{
    public const int KvmCapXsave = 55;
    public const int KvmCapXcrs = 56;
    public const int KvmCapXsave2 = 208;

    /// <summary>KVM_X86_XCOMP_GUEST_SUPP attribute of group 0 (KVM_X86_GRP_SYSTEM).</summary>
    public const ulong KvmX86XcompGuestSupp = 0;

    public KvmSystem(KvmSettings settings)
    {
        Settings = settings;
        Host = HostFpuConfig.Boot(settings.Cpu, settings.Kernel, settings.MxcsrMask);
        Caps = KvmCaps.Create(Host, settings.Release, settings.Flavour);
        Perms = new ProcessPerms(Host);
        HostCpu = new Lazy<HostCpu>(() => new HostCpu(Host));
    }

    public KvmSettings Settings { get; }
    public HostFpuConfig Host { get; }
    public KvmCaps Caps { get; }
    public ProcessPerms Perms { get; }

    /// <summary>The CPU the VMM's vCPU thread runs on (created on first use: it needs the instruction model).</summary>
    public Lazy<HostCpu> HostCpu { get; }

    public SysResult ArchPrctl(int option, ulong arg) => Perms.ArchPrctl(option, arg);

    /// <summary>KVM_CHECK_EXTENSION on /dev/kvm or a VM fd (same answers for these capabilities).</summary>
    public SysResult CheckExtension(int cap) => cap switch
    {
        KvmCapXsave or KvmCapXcrs => SysResult.Success(Host.XsaveEnabled ? 1 : 0),
        KvmCapXsave2 => SysResult.Success(Caps.Xsave2Size(Perms.GuestGroupPerm), "max(xstate_required_size(filtered XCR0), 4096)"),
        _ => SysResult.Success(0, "capability not modelled"),
    };

    /// <summary>KVM_GET_SUPPORTED_CPUID (XSAVE-relevant entries), filtered by the caller's guest permission now.</summary>
    public IReadOnlyList<CpuidEntry> GetSupportedCpuid() => SupportedCpuid.Compute(Caps, Perms.GuestGroupPerm);

    /// <summary>KVM_GET_DEVICE_ATTR on /dev/kvm.</summary>
    public SysResult GetDeviceAttr(uint group, ulong attr) =>
        group == 0 && attr == KvmX86XcompGuestSupp
            ? SysResult.Success((long)Caps.XcompGuestSupp, "kvm_caps.supported_xcr0")
            : SysResult.Fail(Errno.ENXIO, "attribute not supported");

    public IReadOnlyList<uint> GetMsrIndexList() => Caps.MsrsToSave();

    private int _vms;

    /// <summary>KVM_CREATE_VM.</summary>
    public KvmVm CreateVm() => new(this, _vms++);
}
