using System.Runtime.InteropServices;
using XsaveLab.Host.Linux;
using XsaveLab.Kernel.Abi;

namespace XsaveLab.Host.Kvm;

/// <summary>A vCPU file descriptor and the FPU-related vCPU ioctls.</summary>
/// <remarks>KVM's XSAVE uABI is the standard format (<c>fpu_copy_guest_fpstate_to_uabi()</c> →
/// <c>__copy_xstate_to_uabi_buf()</c>, arch/x86/kernel/fpu/core.c, xstate.c); KVM_SET_XSAVE validates like
/// <c>fpu_copy_uabi_to_guest_fpstate()</c>.</remarks>
public sealed unsafe class KvmVcpu : IDisposable
{
    private const int XcrsSize = 392;
    private readonly KvmVm _vm;
    private int _fd;

    internal KvmVcpu(int fd, KvmVm vm)
    {
        _fd = fd;
        _vm = vm;
    }

    public int Fd => _fd;

    /// <summary>KVM_GET_XSAVE into a 4096-byte struct kvm_xsave (fails once the guest's uABI size exceeds it).</summary>
    public KvmResult<byte[]> GetXsave() => Get(KvmIoctl.GetXsave, KvmIoctl.XsaveStructSize);

    /// <summary>KVM_GET_XSAVE2 into <paramref name="size"/> bytes (use <see cref="KvmVm.Xsave2Size"/>).</summary>
    public KvmResult<byte[]> GetXsave2(int size) => Get(KvmIoctl.GetXsave2, Math.Max(size, KvmIoctl.XsaveStructSize));

    /// <summary>KVM_SET_XSAVE with <paramref name="image"/>, zero-padded to at least 4096 bytes (the
    /// kernel reads its guest uABI size, which may be larger: pass a buffer of KVM_CAP_XSAVE2 bytes then).</summary>
    public KvmResult SetXsave(ReadOnlySpan<byte> image)
    {
        int size = Math.Max(image.Length, KvmIoctl.XsaveStructSize);
        byte* buf = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        try
        {
            var span = new Span<byte>(buf, size);
            span.Clear();
            image.CopyTo(span);
            return KvmFd.Ioctl(Live(), KvmIoctl.SetXsave, (nint)buf);
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
        var r = KvmFd.Ioctl(Live(), KvmIoctl.GetXcrs, (nint)buf);
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
        return KvmFd.Ioctl(Live(), KvmIoctl.SetXcrs, (nint)buf);
    }

    /// <summary>KVM_GET_MSRS for one MSR: ret = number of MSRs processed (1, or 0 when KVM refused it).</summary>
    public KvmResult<ulong> GetMsr(uint index)
    {
        byte* buf = stackalloc byte[24];
        new Span<byte>(buf, 24).Clear();
        *(uint*)buf = 1;
        *(uint*)(buf + 8) = index;
        var r = KvmFd.Ioctl(Live(), KvmIoctl.GetMsrs, (nint)buf);
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
        return KvmFd.Ioctl(Live(), KvmIoctl.SetMsrs, (nint)buf);
    }

    /// <summary>KVM_SET_CPUID2 with <paramref name="entries"/>.</summary>
    public KvmResult SetCpuid2(IReadOnlyList<KvmCpuidEntry> entries) => KvmCpuid.Set(Live(), KvmIoctl.SetCpuid2, entries);

    public void Dispose()
    {
        if (_fd >= 0)
        {
            Libc.close(_fd);
            _fd = -1;
            _vm.Forget(this);
        }
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

    private int Live()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        return _fd;
    }
}
