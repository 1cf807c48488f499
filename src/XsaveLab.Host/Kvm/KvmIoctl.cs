namespace XsaveLab.Host.Kvm;

/// <summary>KVM ioctl request numbers and capability numbers (include/uapi/linux/kvm.h,
/// arch/x86/include/uapi/asm/kvm.h).</summary>
/// <remarks><c>_IOC(dir, type, nr, size) = dir &lt;&lt; 30 | size &lt;&lt; 16 | type &lt;&lt; 8 | nr</c>, type
/// KVMIO = 0xAE; <c>_IO</c> dir 0, <c>_IOW</c> 1, <c>_IOR</c> 2, <c>_IOWR</c> 3 (include/uapi/asm-generic/ioctl.h).</remarks>
public static class KvmIoctl
{
    public static ulong Ioc(uint dir, uint nr, uint size) => (ulong)dir << 30 | (ulong)size << 16 | 0xAEUL << 8 | nr;

    public static readonly ulong GetApiVersion = Ioc(0, 0x00, 0);
    public static readonly ulong CreateVm = Ioc(0, 0x01, 0);
    public static readonly ulong GetMsrIndexList = Ioc(3, 0x02, 4);
    public static readonly ulong CheckExtension = Ioc(0, 0x03, 0);
    public static readonly ulong GetSupportedCpuid = Ioc(3, 0x05, 8);
    public static readonly ulong GetMsrFeatureIndexList = Ioc(3, 0x0a, 4);
    public static readonly ulong CreateVcpu = Ioc(0, 0x41, 0);
    public static readonly ulong GetMsrs = Ioc(3, 0x88, 8);
    public static readonly ulong SetMsrs = Ioc(1, 0x89, 8);
    public static readonly ulong SetCpuid2 = Ioc(1, 0x90, 8);
    public static readonly ulong GetXsave = Ioc(2, 0xa4, 4096);
    public static readonly ulong SetXsave = Ioc(1, 0xa5, 4096);
    public static readonly ulong GetXcrs = Ioc(2, 0xa6, 392);
    public static readonly ulong SetXcrs = Ioc(1, 0xa7, 392);
    public static readonly ulong GetXsave2 = Ioc(2, 0xcf, 4096);
    public static readonly ulong GetDeviceAttr = Ioc(1, 0xe2, 24);
    public static readonly ulong HasDeviceAttr = Ioc(1, 0xe3, 24);

    public const int ApiVersion = 12;

    public const int CapXsave = 55;
    public const int CapXcrs = 56;
    public const int CapOneReg = 70;
    public const int CapGetMsrFeatures = 153;
    public const int CapXsave2 = 208;
    public const int CapSysAttributes = 209;
    public const int CapVmTypes = 235;

    /// <summary>KVM_X86_GRP_SYSTEM / KVM_X86_XCOMP_GUEST_SUPP: the XCR0 bits KVM supports for guests
    /// (<c>kvm_caps.supported_xcr0</c>), read with KVM_GET_DEVICE_ATTR on /dev/kvm.</summary>
    public const uint GroupSystem = 0;
    public const ulong XcompGuestSupp = 0;

    /// <summary>sizeof(struct kvm_xsave): the smallest buffer KVM_GET_XSAVE(2)/KVM_SET_XSAVE use.</summary>
    public const int XsaveStructSize = 4096;
}
