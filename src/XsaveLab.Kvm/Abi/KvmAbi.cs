namespace XsaveLab.Kvm.Abi;

/// <summary>The KVM user ABI numbers, for the model (<see cref="Vm.KvmSystem"/>) and the live KVM fds alike:
/// capability numbers, ioctl request numbers and struct sizes (include/uapi/linux/kvm.h,
/// arch/x86/include/uapi/asm/kvm.h).</summary>
/// <remarks><c>_IOC(dir, type, nr, size) = dir &lt;&lt; 30 | size &lt;&lt; 16 | type &lt;&lt; 8 | nr</c> with type
/// KVMIO = 0xAE; <c>_IO</c> dir 0, <c>_IOW</c> 1, <c>_IOR</c> 2, <c>_IOWR</c> 3 (include/uapi/asm-generic/ioctl.h).</remarks>
public static class KvmAbi
{
    /// <summary><c>sizeof(struct kvm_xsave)</c>: the KVM_GET_XSAVE/KVM_SET_XSAVE buffer and the smallest
    /// KVM_GET_XSAVE2 one. The number itself belongs to the kernel model, whose
    /// <c>fpu_alloc_guest_fpstate()</c> starts <c>uabi_size</c> at it.</summary>
    public const int XsaveStructSize = LinuxKernel.KvmXsaveSize;

    /// <summary><c>sizeof(struct kvm_xcrs)</c>: nr_xcrs, flags, 16 × {xcr, reserved, value}, 16 u64 padding.</summary>
    public const int XcrsStructSize = 392;

    /// <summary><c>sizeof(struct kvm_device_attr)</c>.</summary>
    public const int DeviceAttrStructSize = 24;

    /// <summary>KVM_GET_API_VERSION's answer on every released kernel.</summary>
    public const int ApiVersion = 12;

    /// <summary><c>sizeof(struct kvm_one_reg)</c>: id, addr.</summary>
    public const int OneRegStructSize = 16;

    /// <summary><c>sizeof(struct kvm_reg_list)</c> without its flexible <c>reg[]</c>: n.</summary>
    public const int RegListStructSize = 8;

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

    /// <summary>KVM_REG_X86 (include/uapi/linux/kvm.h): the architecture byte of a ONE_REG id.</summary>
    public const ulong RegX86 = 0x2000000000000000;
    public const ulong RegArchMask = 0xff00000000000000;

    /// <summary>KVM_REG_SIZE_U64 and KVM_REG_SIZE_MASK: bits 55:52 of an id, log2 of the size.</summary>
    public const ulong RegSizeU64 = 0x0030000000000000;
    public const ulong RegSizeMask = 0x00f0000000000000;

    /// <summary>KVM_X86_REG_TYPE_MSR and KVM_X86_REG_TYPE_KVM (6.18, arch/x86/include/uapi/asm/kvm.h): bits 39:32 of
    /// an x86 id (<c>struct kvm_x86_reg_id</c> = u32 index, u8 type, u8 rsvd1, u8 rsvd2:4 size:4, u8 x86).</summary>
    public const byte RegTypeMsr = 2;
    public const byte RegTypeKvm = 3;

    /// <summary>KVM_REG_GUEST_SSP: the first KVM-defined register, the guest's current shadow-stack pointer.</summary>
    public const uint RegGuestSsp = 0;

    /// <summary><c>KVM_X86_REG_ID(type, index)</c> = KVM_REG_X86 | type &lt;&lt; 32 | size | index; both types
    /// defined so far are 64-bit (<c>KVM_X86_REG_TYPE_SIZE()</c>).</summary>
    public static ulong RegId(byte type, uint index) => RegX86 | (ulong)type << 32 | RegSizeU64 | index;

    /// <summary><c>KVM_X86_REG_MSR(index)</c>.</summary>
    public static ulong RegMsr(uint msr) => RegId(RegTypeMsr, msr);

    /// <summary><c>KVM_X86_REG_KVM(index)</c>.</summary>
    public static ulong RegKvm(uint index) => RegId(RegTypeKvm, index);

    /// <summary>The id of KVM_REG_GUEST_SSP: <c>KVM_X86_REG_KVM(KVM_REG_GUEST_SSP)</c>.</summary>
    public static ulong RegGuestSspId => RegKvm(RegGuestSsp);

    public static ulong Ioc(uint dir, uint nr, uint size) => (ulong)dir << 30 | (ulong)size << 16 | 0xAEUL << 8 | nr;

    public static ulong GetApiVersion => Ioc(0, 0x00, 0);
    public static ulong CreateVm => Ioc(0, 0x01, 0);
    public static ulong GetMsrIndexList => Ioc(3, 0x02, 4);
    public static ulong CheckExtension => Ioc(0, 0x03, 0);
    public static ulong GetSupportedCpuid => Ioc(3, 0x05, 8);
    public static ulong GetMsrFeatureIndexList => Ioc(3, 0x0a, 4);
    public static ulong CreateVcpu => Ioc(0, 0x41, 0);
    public static ulong GetMsrs => Ioc(3, 0x88, 8);
    public static ulong SetMsrs => Ioc(1, 0x89, 8);
    public static ulong SetCpuid2 => Ioc(1, 0x90, 8);
    public static ulong GetXsave => Ioc(2, 0xa4, XsaveStructSize);
    public static ulong SetXsave => Ioc(1, 0xa5, XsaveStructSize);
    public static ulong GetXcrs => Ioc(2, 0xa6, XcrsStructSize);
    public static ulong SetXcrs => Ioc(1, 0xa7, XcrsStructSize);
    /// <summary>KVM_GET_XSAVE2 is declared with struct kvm_xsave although the buffer is KVM_CAP_XSAVE2 bytes.</summary>
    public static ulong GetXsave2 => Ioc(2, 0xcf, XsaveStructSize);
    public static ulong GetOneReg => Ioc(1, 0xab, OneRegStructSize);
    public static ulong SetOneReg => Ioc(1, 0xac, OneRegStructSize);
    public static ulong GetRegList => Ioc(3, 0xb0, RegListStructSize);
    public static ulong GetDeviceAttr => Ioc(1, 0xe2, DeviceAttrStructSize);
    public static ulong HasDeviceAttr => Ioc(1, 0xe3, DeviceAttrStructSize);
}
