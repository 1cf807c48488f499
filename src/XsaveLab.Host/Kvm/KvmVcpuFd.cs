namespace XsaveLab.Host.Kvm;

/// <summary>A live vCPU file descriptor and the FPU-related vCPU ioctls (the model's vCPU is
/// <see cref="XsaveLab.Kvm.Vm.KvmVcpu"/>).</summary>
/// <remarks>KVM's XSAVE uABI is the standard format (<c>fpu_copy_guest_fpstate_to_uabi()</c> →
/// <c>__copy_xstate_to_uabi_buf()</c>, arch/x86/kernel/fpu/core.c, xstate.c); KVM_SET_XSAVE validates like
/// <c>fpu_copy_uabi_to_guest_fpstate()</c>.</remarks>
public sealed unsafe class KvmVcpuFd : IDisposable
{
    private const int XcrsSize = KvmAbi.XcrsStructSize;
    private readonly KvmVmFd _vm;
    private readonly SafeFdHandle _fd;

    internal KvmVcpuFd(SafeFdHandle fd, KvmVmFd vm)
    {
        _fd = fd;
        _vm = vm;
    }

    /// <summary>The descriptor number (-1 once disposed).</summary>
    public int Fd => _fd.IsClosed ? -1 : _fd.Fd;

    /// <summary>KVM_GET_XSAVE into a 4096-byte struct kvm_xsave (fails once the guest's uABI size exceeds it).</summary>
    public KvmResult<byte[]> GetXsave() => Get(KvmAbi.GetXsave, KvmAbi.XsaveStructSize);

    /// <summary>KVM_GET_XSAVE2 into <paramref name="size"/> bytes (use <see cref="KvmVmFd.Xsave2Size"/>).</summary>
    public KvmResult<byte[]> GetXsave2(int size) => Get(KvmAbi.GetXsave2, Math.Max(size, KvmAbi.XsaveStructSize));

    /// <summary>KVM_SET_XSAVE with <paramref name="image"/>, zero-padded to at least 4096 bytes (the
    /// kernel reads its guest uABI size, which may be larger: pass a buffer of KVM_CAP_XSAVE2 bytes then).</summary>
    public KvmResult SetXsave(ReadOnlySpan<byte> image)
    {
        int size = Math.Max(image.Length, KvmAbi.XsaveStructSize);
        byte* buf = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        try
        {
            var span = new Span<byte>(buf, size);
            span.Clear();
            image.CopyTo(span);
            return KvmFd.Ioctl(Live(), KvmAbi.SetXsave, (nint)buf);
        }
        finally
        {
            NativeMemory.AlignedFree(buf);
        }
    }

    /// <summary>KVM_GET_XCRS: the XCRs (XCR0 only on x86) and the flags word.</summary>
    public KvmResult<IReadOnlyList<KvmXcr>> GetXcrs()
    {
        byte* buf = stackalloc byte[XcrsSize];
        new Span<byte>(buf, XcrsSize).Clear();
        var r = KvmFd.Ioctl(Live(), KvmAbi.GetXcrs, (nint)buf);
        if (!r.Ok)
            return new(r.Result, null);
        uint n = Math.Min(*(uint*)buf, 16u);
        var list = new KvmXcr[n];
        for (int i = 0; i < n; i++)
            list[i] = new KvmXcr(*(uint*)(buf + 8 + 16 * i), *(ulong*)(buf + 8 + 16 * i + 8));
        return new(r.Result, list);
    }

    /// <summary>KVM_SET_XCRS (EINVAL when the kernel's <c>__kvm_set_xcr()</c> refuses a value).</summary>
    public KvmResult SetXcrs(IReadOnlyList<KvmXcr> xcrs)
    {
        if (xcrs.Count > 16)
            throw new ArgumentException("at most 16 XCRs", nameof(xcrs));
        byte* buf = stackalloc byte[XcrsSize];
        new Span<byte>(buf, XcrsSize).Clear();
        *(uint*)buf = (uint)xcrs.Count;
        for (int i = 0; i < xcrs.Count; i++)
        {
            *(uint*)(buf + 8 + 16 * i) = xcrs[i].Xcr;
            *(ulong*)(buf + 8 + 16 * i + 8) = xcrs[i].Value;
        }
        return KvmFd.Ioctl(Live(), KvmAbi.SetXcrs, (nint)buf);
    }

    /// <summary>KVM_GET_MSRS for one MSR: ret = number of MSRs processed (1, or 0 when KVM refused it).</summary>
    public KvmResult<ulong> GetMsr(uint index)
    {
        byte* buf = stackalloc byte[24];
        new Span<byte>(buf, 24).Clear();
        *(uint*)buf = 1;
        *(uint*)(buf + 8) = index;
        var r = KvmFd.Ioctl(Live(), KvmAbi.GetMsrs, (nint)buf);
        return new(r.Result, r.Ret == 1 ? *(ulong*)(buf + 16) : 0);
    }

    /// <summary>KVM_SET_MSRS for one MSR: ret = number of MSRs processed (1, or 0 when KVM refused it).</summary>
    public KvmResult SetMsr(uint index, ulong value)
    {
        byte* buf = stackalloc byte[24];
        new Span<byte>(buf, 24).Clear();
        *(uint*)buf = 1;
        *(uint*)(buf + 8) = index;
        *(ulong*)(buf + 16) = value;
        return KvmFd.Ioctl(Live(), KvmAbi.SetMsrs, (nint)buf);
    }

    /// <summary>KVM_SET_CPUID2 with <paramref name="entries"/>.</summary>
    public KvmResult SetCpuid2(IReadOnlyList<KvmCpuidEntry> entries) => KvmCpuid.Set(Live(), KvmAbi.SetCpuid2, entries);

    public void Dispose()
    {
        if (_fd.IsClosed)
            return;
        _fd.Dispose();
        _vm.Forget(this);
    }

    private KvmResult<byte[]> Get(ulong request, int size)
    {
        byte* buf = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        try
        {
            new Span<byte>(buf, size).Fill(0xCC);
            var r = KvmFd.Ioctl(Live(), request, (nint)buf);
            return new(r.Result, r.Ok ? new Span<byte>(buf, size).ToArray() : null);
        }
        finally
        {
            NativeMemory.AlignedFree(buf);
        }
    }

    private SafeFdHandle Live()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        return _fd;
    }
}
