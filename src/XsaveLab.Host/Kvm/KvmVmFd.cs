namespace XsaveLab.Host.Kvm;

/// <summary>A live VM file descriptor (the model's VM is <see cref="XsaveLab.Kvm.Vm.KvmVm"/>). Disposing closes
/// its vCPUs first, then the VM fd.</summary>
public sealed class KvmVmFd : IDisposable
{
    private readonly KvmDevice _device;
    private readonly OwnedFds<KvmVcpuFd> _vcpus = new();
    private readonly SafeFdHandle _fd;

    internal KvmVmFd(SafeFdHandle fd, KvmDevice device)
    {
        _fd = fd;
        _device = device;
    }

    /// <summary>The descriptor number (-1 once disposed).</summary>
    public int Fd => _fd.IsClosed ? -1 : _fd.Fd;

    /// <summary>KVM_CHECK_EXTENSION on the VM fd (some capabilities, like KVM_CAP_XSAVE2, depend on the
    /// VM and the process's guest permissions).</summary>
    public KvmResult CheckExtension(int capability) => KvmFd.Ioctl(Live(), KvmAbi.CheckExtension, capability);

    /// <summary>The buffer size KVM_GET_XSAVE2 needs: KVM_CAP_XSAVE2 on this VM, at least
    /// sizeof(struct kvm_xsave) (the capability reads 0 on kernels without it).</summary>
    public int Xsave2Size()
    {
        var r = CheckExtension(KvmAbi.CapXsave2);
        return Math.Max(r.Ok ? r.Ret : 0, KvmAbi.XsaveStructSize);
    }

    /// <summary>KVM_CREATE_VCPU with <paramref name="id"/>. Creating the first vCPU locks the process's
    /// guest FPU permissions (<c>fpu_lock_guest_permissions()</c>, arch/x86/kernel/fpu/xstate.c).</summary>
    public KvmResult<KvmVcpuFd> CreateVcpu(int id = 0) =>
        _vcpus.Adopt(KvmFd.Ioctl(Live(), KvmAbi.CreateVcpu, id), fd => new KvmVcpuFd(fd, this));

    internal void Forget(KvmVcpuFd vcpu) => _vcpus.Forget(vcpu);

    public void Dispose()
    {
        _vcpus.DisposeAll();
        if (_fd.IsClosed)
            return;
        _fd.Dispose();
        _device.Forget(this);
    }

    private SafeFdHandle Live()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        return _fd;
    }
}
