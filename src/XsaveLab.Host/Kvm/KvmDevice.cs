namespace XsaveLab.Host.Kvm;

/// <summary>The system file descriptor of /dev/kvm and the system ioctls. Disposing closes every VM
/// (and their vCPUs) created from it first, then its own fd.</summary>
/// <remarks>KVM API: Documentation/virt/kvm/api.rst §4 (system ioctls). Results are values: ioctl return
/// and errno, with data where the call produces some.</remarks>
public sealed unsafe class KvmDevice : IDisposable
{
    public const string DefaultPath = "/dev/kvm";
    private readonly OwnedFds<KvmVmFd> _vms = new();
    private readonly SafeFdHandle _fd;

    private KvmDevice(SafeFdHandle fd) => _fd = fd;

    /// <summary>The descriptor number (-1 once disposed).</summary>
    public int Fd => _fd.IsClosed ? -1 : _fd.Fd;

    /// <summary>Opens /dev/kvm read-write and close-on-exec; null with errno when it cannot.</summary>
    public static KvmDevice? TryOpen(out int errno, string path = DefaultPath)
    {
        var fd = Libc.open(path, Libc.ORdwr | Libc.OCloexec);
        errno = fd.IsInvalid ? Marshal.GetLastPInvokeError() : 0;
        if (!fd.IsInvalid)
            return new KvmDevice(fd);
        fd.Dispose();
        return null;
    }

    /// <summary>KVM_GET_API_VERSION (ret = version, 12 for every released kernel).</summary>
    public KvmResult ApiVersion() => KvmFd.Ioctl(Live(), KvmAbi.GetApiVersion, 0);

    /// <summary>KVM_CHECK_EXTENSION on the system fd (ret = 0 when absent, else the capability's value).</summary>
    public KvmResult CheckExtension(int capability) => KvmFd.Ioctl(Live(), KvmAbi.CheckExtension, capability);

    /// <summary>KVM_GET_SUPPORTED_CPUID, growing the table while the kernel answers E2BIG.</summary>
    public KvmResult<IReadOnlyList<KvmCpuidEntry>> GetSupportedCpuid()
    {
        for (int n = 64; ; n *= 2)
        {
            var (r, entries) = CpuidCall(KvmAbi.GetSupportedCpuid, n);
            if (r.Ok || r.Errno != Errno.E2BIG || n >= 1 << 14)
                return new(r.Result, entries);
        }
    }

    /// <summary>KVM_GET_MSR_INDEX_LIST: MSRs a VMM should save and restore.</summary>
    public KvmResult<uint[]> GetMsrIndexList() => MsrList(KvmAbi.GetMsrIndexList);

    /// <summary>KVM_GET_MSR_FEATURE_INDEX_LIST: feature MSRs readable with KVM_GET_MSRS on /dev/kvm.</summary>
    public KvmResult<uint[]> GetMsrFeatureIndexList() => MsrList(KvmAbi.GetMsrFeatureIndexList);

    /// <summary>KVM_GET_DEVICE_ATTR on the system fd; ENXIO for an unknown attribute, and the ioctl
    /// itself is missing (EINVAL/ENOTTY) before KVM_CAP_SYS_ATTRIBUTES.</summary>
    public KvmResult<ulong> GetDeviceAttr(uint group, ulong attribute)
    {
        ulong value = 0;
        byte* attr = stackalloc byte[24];
        new Span<byte>(attr, 24).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(attr + 4, 4), group);
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(attr + 8, 8), attribute);
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(attr + 16, 8), (ulong)(nint)(&value));
        var r = KvmFd.Ioctl(Live(), KvmAbi.GetDeviceAttr, (nint)attr);
        return new(r.Result, r.Ok ? value : 0);
    }

    /// <summary>KVM_X86_XCOMP_GUEST_SUPP: <c>kvm_caps.supported_xcr0</c>.</summary>
    public KvmResult<ulong> GetXcompGuestSupp() => GetDeviceAttr(KvmAbi.GroupSystem, KvmAbi.XcompGuestSupp);

    /// <summary>KVM_CREATE_VM of <paramref name="type"/> (0 = default). The VM is owned by this device too:
    /// disposing the device disposes it.</summary>
    public KvmResult<KvmVmFd> CreateVm(ulong type = 0) =>
        _vms.Adopt(KvmFd.Ioctl(Live(), KvmAbi.CreateVm, (nint)type), fd => new KvmVmFd(fd, this));

    internal void Forget(KvmVmFd vm) => _vms.Forget(vm);

    public void Dispose()
    {
        _vms.DisposeAll();
        _fd.Dispose();
    }

    private SafeFdHandle Live()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        return _fd;
    }

    internal (KvmResult, IReadOnlyList<KvmCpuidEntry>?) CpuidCall(ulong request, int capacity) => KvmCpuid.Call(Live(), request, capacity);

    private KvmResult<uint[]> MsrList(ulong request)
    {
        for (int n = 64; ; n *= 2)
        {
            uint* buf = (uint*)NativeMemory.AllocZeroed((nuint)(4 + 4 * n));
            try
            {
                buf[0] = (uint)n;
                var r = KvmFd.Ioctl(Live(), request, (nint)buf);
                if (r.Ok)
                    return new(r.Result, new ReadOnlySpan<uint>(buf + 1, (int)buf[0]).ToArray());
                if (r.Errno != Errno.E2BIG || n >= 1 << 16)
                    return new(r.Result, null);
                n = Math.Max(n, (int)buf[0] / 2); // the kernel wrote the count it needs
            }
            finally
            {
                NativeMemory.Free(buf);
            }
        }
    }
}

/// <summary>struct kvm_cpuid2 marshalling.</summary>
internal static unsafe class KvmCpuid
{
    public const int EntrySize = 40;

    public static (KvmResult, IReadOnlyList<KvmCpuidEntry>?) Call(SafeFdHandle fd, ulong request, int capacity)
    {
        byte* buf = (byte*)NativeMemory.AllocZeroed((nuint)(8 + EntrySize * capacity));
        try
        {
            *(uint*)buf = (uint)capacity;
            var r = KvmFd.Ioctl(fd, request, (nint)buf);
            if (!r.Ok)
                return (r, null);
            int n = (int)*(uint*)buf;
            var list = new KvmCpuidEntry[n];
            for (int i = 0; i < n; i++)
            {
                uint* e = (uint*)(buf + 8 + EntrySize * i);
                list[i] = new KvmCpuidEntry(e[0], e[1], e[2], e[3], e[4], e[5], e[6]);
            }
            return (r, list);
        }
        finally
        {
            NativeMemory.Free(buf);
        }
    }

    public static KvmResult Set(SafeFdHandle fd, ulong request, IReadOnlyList<KvmCpuidEntry> entries)
    {
        byte* buf = (byte*)NativeMemory.AllocZeroed((nuint)(8 + EntrySize * entries.Count));
        try
        {
            *(uint*)buf = (uint)entries.Count;
            for (int i = 0; i < entries.Count; i++)
            {
                uint* e = (uint*)(buf + 8 + EntrySize * i);
                var x = entries[i];
                (e[0], e[1], e[2], e[3], e[4], e[5], e[6]) = (x.Function, x.Index, x.Flags, x.Eax, x.Ebx, x.Ecx, x.Edx);
            }
            return KvmFd.Ioctl(fd, request, (nint)buf);
        }
        finally
        {
            NativeMemory.Free(buf);
        }
    }
}
