namespace XsaveLab.Kernel.Tasks;

/// <summary>One logical CPU: the model CPU and the per-CPU FPU variables.</summary>
public sealed class KernelCpu
{
    internal KernelCpu(int id, XsaveCpu cpu)
    {
        Id = id;
        Cpu = cpu;
        // The PKRU slot is 8 bytes, but Zen 2 enumerates 64 (CPUID(0xD,9).EAX): the scratch holds the whole slot.
        PkruScratch = new byte[(cpu.Enumerated & XFeatureMasks.Pkru) != 0 ? cpu.Read((int)XFeature.Pkru).Length : 8];
    }

    public int Id { get; }

    /// <summary>The registers and instructions.</summary>
    public XsaveCpu Cpu { get; private set; }

    /// <summary>fpu_fpregs_owner_ctx: whose context the registers hold (null = nobody's).</summary>
    public Fpu? FpregsOwnerCtx { get; internal set; }

    /// <summary>xfd_state: cached IA32_XFD.</summary>
    public ulong XfdState { get; internal set; }

    /// <summary>kernel_fpu_allowed.</summary>
    public bool KernelFpuAllowed { get; internal set; } = true;

    /// <summary>The task currently running here, null for idle.</summary>
    public KernelTask? Current { get; internal set; }

    // Scratch for PKRU writes (no allocation on switches).
    internal byte[] PkruScratch;

    /// <summary>The copy of this CPU within the kernel copy <paramref name="map"/> is building.</summary>
    internal KernelCpu Clone(CloneMap map)
    {
        var c = (KernelCpu)MemberwiseClone();
        c.Cpu = Cpu.Clone();
        c.PkruScratch = (byte[])PkruScratch.Clone();
        c.FpregsOwnerCtx = FpregsOwnerCtx is null ? null : Fpu.Clone(FpregsOwnerCtx, map);
        c.Current = map.Get(Current, KernelTask.Clone);
        return c;
    }
}
