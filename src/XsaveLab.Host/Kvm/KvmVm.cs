using XsaveLab.Host.Linux;
using XsaveLab.Kernel.Abi;

namespace XsaveLab.Host.Kvm;

/// <summary>A VM file descriptor. Disposing closes its vCPUs first, then the VM fd.</summary>
public sealed class KvmVm : IDisposable
{
    private readonly KvmDevice _device;
    private readonly List<KvmVcpu> _vcpus = [];
    private int _fd;

    internal KvmVm(int fd, KvmDevice device)
    {
        _fd = fd;
        _device = device;
    }

    public int Fd => _fd;

    /// <summary>KVM_CHECK_EXTENSION on the VM fd (some capabilities, like KVM_CAP_XSAVE2, depend on the
    /// VM and the process's guest permissions).</summary>
    public KvmResult CheckExtension(int capability) => KvmFd.Ioctl(Live(), KvmIoctl.CheckExtension, capability);

    /// <summary>The buffer size KVM_GET_XSAVE2 needs: KVM_CAP_XSAVE2 on this VM, at least
    /// sizeof(struct kvm_xsave) (the capability reads 0 on kernels without it).</summary>
    public int Xsave2Size()
    {
        var r = CheckExtension(KvmIoctl.CapXsave2);
        return Math.Max(r.Ok ? r.Ret : 0, KvmIoctl.XsaveStructSize);
    }

    /// <summary>KVM_CREATE_VCPU with <paramref name="id"/>. Creating the first vCPU locks the process's
    /// guest FPU permissions (<c>fpu_lock_guest_permissions()</c>, arch/x86/kernel/fpu/xstate.c).</summary>
    public KvmResult<KvmVcpu> CreateVcpu(int id = 0)
    {
        var r = KvmFd.Ioctl(Live(), KvmIoctl.CreateVcpu, id);
        if (!r.Ok)
            return new(r.Result, null);
        var v = new KvmVcpu(r.Ret, this);
        _vcpus.Add(v);
        return new(r.Result, v);
    }

    internal void Forget(KvmVcpu vcpu) => _vcpus.Remove(vcpu);

    public void Dispose()
    {
        foreach (var v in _vcpus.ToArray())
            v.Dispose();
        if (_fd >= 0)
        {
            Libc.close(_fd);
            _fd = -1;
            _device.Forget(this);
        }
    }

    private int Live()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        return _fd;
    }
}
