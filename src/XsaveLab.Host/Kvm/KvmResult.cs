namespace XsaveLab.Host.Kvm;

/// <summary>One ioctl: its result (a count, size or fd for some requests, or the errno).</summary>
public readonly record struct KvmResult(SysResult Result)
{
    public bool Ok => Result.Ok;

    /// <summary>What ioctl(2) returned: the value, or -1.</summary>
    public int Ret => Ok ? (int)Result.Value : -1;

    public Errno Errno => Result.Errno;

    public override string ToString() => Ok ? $"ret={Ret}" : $"ret={Ret} {Result.Errno.Name()}";
}

/// <summary>One ioctl with the data it returned (default when it failed).</summary>
public readonly record struct KvmResult<T>(SysResult Result, T? Data)
{
    public bool Ok => Result.Ok;

    /// <summary>What ioctl(2) returned: the value, or -1.</summary>
    public int Ret => Ok ? (int)Result.Value : -1;

    public Errno Errno => Result.Errno;

    public override string ToString() => Ok ? $"ret={Ret}" : $"ret={Ret} {Result.Errno.Name()}";
}

/// <summary>One struct kvm_cpuid_entry2.</summary>
public readonly record struct KvmCpuidEntry(uint Function, uint Index, uint Flags, uint Eax, uint Ebx, uint Ecx, uint Edx)
{
    /// <summary>KVM_CPUID_FLAG_SIGNIFCANT_INDEX: the entry is specific to <see cref="Index"/>.</summary>
    public const uint SignificantIndex = 1;
}

/// <summary>One struct kvm_xcr.</summary>
public readonly record struct KvmXcr(uint Xcr, ulong Value);

/// <summary>An fd-based KVM object's ioctl plumbing.</summary>
internal static class KvmFd
{
    public static KvmResult Ioctl(SafeFdHandle fd, ulong request, nint arg)
    {
        int r = Libc.ioctl(fd, request, arg);
        return new KvmResult(SysResult.FromLibc(r, r < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0, "ioctl"));
    }
}
