namespace XsaveLab.Kvm.Vm;

public sealed partial class KvmVcpu
{
    /// <summary>KVM_GET_XSAVE: the 4096-byte <c>struct kvm_xsave</c>; -EINVAL once <c>uabi_size</c> &gt; 4096 (AMX
    /// exposed), because the state would not fit.</summary>
    public SysResult GetXsave(out byte[] image)
    {
        image = [];
        if (Dead() is { } d) return d;
        if (Fpu.UabiSize > KvmAbi.XsaveStructSize)
            return SysResult.Fail(Errno.EINVAL, $"guest_fpu.uabi_size {Numbers.Int(Fpu.UabiSize)} > sizeof(struct kvm_xsave) {Numbers.Int(KvmAbi.XsaveStructSize)}: use KVM_GET_XSAVE2");
        image = new byte[KvmAbi.XsaveStructSize];
        FillXsave(image);
        return SysResult.Success(0, $"{Numbers.Bytes(image.Length)}");
    }

    /// <summary>KVM_GET_XSAVE2: <c>uabi_size</c> bytes, features = guest-supported XCR0 | FP | SSE.</summary>
    public SysResult GetXsave2(out byte[] image)
    {
        image = [];
        if (Dead() is { } d) return d;
        image = new byte[Fpu.UabiSize];
        FillXsave(image);
        return SysResult.Success(0, $"{Numbers.Bytes(image.Length)}");
    }

    private void FillXsave(byte[] image)
    {
        // A guest FPU swapped in for a running vCPU is saved first (KVM_GET_XSAVE2 never runs concurrently with KVM_RUN).
        K.FpuCopyGuestFpstateToUabi(Fpu, image, GuestSupportedXcr0 | XFeatureMasks.FpSse, Pkru);
    }

    /// <summary>KVM_SET_XSAVE: reads <c>uabi_size</c> bytes from the caller and calls
    /// <c>fpu_copy_uabi_to_guest_fpstate(…, kvm_caps.supported_xcr0, &amp;vcpu->arch.pkru)</c>. From 6.19
    /// (b45f72177594) <c>kvm_vcpu_ioctl_x86_set_xsave()</c> first clears the XSTATE_BV bits the guest's XFD disables;
    /// before, such an image is accepted and the next KVM_RUN's XRSTOR takes #NM in the host kernel.</summary>
    public SysResult SetXsave(ReadOnlySpan<byte> image)
    {
        if (Dead() is { } d) return d;
        if (image.Length < Fpu.UabiSize)
            return SysResult.Fail(Errno.EFAULT, $"KVM_SET_XSAVE copies uabi_size = {Numbers.Bytes(Fpu.UabiSize)}; the caller's buffer has {Numbers.Int(image.Length)}", image.Length);
        var copy = image[..Fpu.UabiSize].ToArray();
        if (Caps.Release.ClearsXfdDisabledState() && copy.Length >= XsaveOffsets.XcompBv)
        {
            var hdr = copy.AsSpan(XsaveOffsets.XstateBv);
            BinaryPrimitives.WriteUInt64LittleEndian(hdr, BinaryPrimitives.ReadUInt64LittleEndian(hdr) & ~Fpu.FpState!.Xfd);
        }
        uint pkru = Pkru;
        var r = K.FpuCopyUabiToGuestFpstate(Fpu, copy, Caps.SupportedXcr0, ref pkru);
        if (!r.Ok)
            return r;
        Pkru = pkru;
        return SysResult.Success();
    }

    /// <summary>KVM_GET_XCRS: one entry (XCR0) with XSAVE, none without.</summary>
    public SysResult GetXcrs(out IReadOnlyList<(uint Xcr, ulong Value)> xcrs)
    {
        xcrs = [];
        if (Dead() is { } d) return d;
        xcrs = Host.XsaveEnabled ? [(0u, Xcr0)] : [];
        return SysResult.Success(xcrs.Count);
    }

    /// <summary>KVM_SET_XCRS: XCR0 through <c>__kvm_set_xcr()</c>; -EINVAL on any rule.</summary>
    public SysResult SetXcrs(IReadOnlyList<(uint Xcr, ulong Value)> xcrs)
    {
        if (Dead() is { } d) return d;
        if (!Host.XsaveEnabled || xcrs.Count > 16)
            return SysResult.Fail(Errno.EINVAL, Host.XsaveEnabled ? "nr_xcrs > KVM_MAX_XCRS" : "host has no XSAVE");
        foreach (var (x, v) in xcrs)
            if (x == 0)
            {
                var why = SetXcr(0, v);
                return why is null ? SysResult.Success(0, $"XCR0 = 0x{v:x}") : SysResult.Fail(Errno.EINVAL, why);
            }
        return SysResult.Success();
    }

    /// <summary><c>__kvm_set_xcr()</c>: null on success, else the rule.</summary>
    private string? SetXcr(uint index, ulong value)
    {
        if (index != 0)
            return $"XCR{index} does not exist";
        var why = XcrRules.Check(value, GuestSupportedXcr0);
        if (why is null)
            Xcr0 = value;
        return why;
    }
}
