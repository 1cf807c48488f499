namespace XsaveLab.Kernel.Guest;

/// <summary><c>struct fpu_guest</c>, the guest pseudo FPU container KVM keeps per vCPU.</summary>
public sealed class FpuGuest
{
    internal FpuGuest(KernelTask owner) => Owner = owner;

    /// <summary>The task that allocated it (the vCPU thread).</summary>
    public KernelTask Owner { get; private set; }

    /// <summary>xfeatures: features enabled/allocated for the vCPU.</summary>
    public ulong Xfeatures { get; internal set; }

    /// <summary>perm: set at allocation and never read; only in kernels before 32d5fa804dc9 (6.15), else null.</summary>
    public ulong? Perm { get; internal set; }

    /// <summary>xfd_err: the guest's IA32_XFD_ERR (KVM-managed).</summary>
    public ulong XfdErr { get; set; }

    /// <summary>uabi_size: KVM_GET_XSAVE2 buffer size.</summary>
    public int UabiSize { get; internal set; }

    /// <summary>fpstate: the guest buffer (null after free).</summary>
    public FpState? FpState { get; internal set; }

    /// <summary>The copy of <paramref name="o"/> within the kernel copy <paramref name="map"/> is building (for a
    /// vCPU's container, through <see cref="CloneMap.Get{T}"/>).</summary>
    public static FpuGuest Clone(FpuGuest o, CloneMap map)
    {
        var c = (FpuGuest)o.MemberwiseClone();
        map.Add(o, c);
        c.Owner = map.Get(o.Owner, KernelTask.Clone);
        c.FpState = map.Get(o.FpState, FpState.Clone);
        return c;
    }
}
