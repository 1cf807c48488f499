namespace XsaveLab.Kernel.Uabi;

/// <summary>Seeded random register states, for properties and for the live SETREGSET comparison: what a
/// task's fpstate could hold after the CPU saved arbitrary user register values.</summary>
public static class UabiRandom
{
    /// <summary>A task with random values in a random subset (or <paramref name="inUse"/>) of its user features:
    /// x87 environment and registers, a valid MXCSR (within mxcsr_feature_mask), XMM, extended components,
    /// PKRU (in use iff non-zero, as XSAVES records it), plus random supervisor components that stay in use.</summary>
    public static UabiTask Task(UabiConfig cfg, Random rng, ulong? inUse = null)
    {
        var fps = cfg.NewDefaultFpstate();
        ulong bv = (inUse ?? (ulong)rng.NextInt64()) & fps.UserXfeatures;
        var regs = fps.Buffer.AsSpan();
        if ((bv & XFeatureMasks.Fp) != 0)
        {
            rng.NextBytes(regs[..XsaveOffsets.FpEnvSize]);
            rng.NextBytes(regs.Slice(XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize));
        }
        if ((bv & (XFeatureMasks.Sse | XFeatureMasks.Ymm)) != 0)
            BinaryPrimitives.WriteUInt32LittleEndian(regs[XsaveOffsets.Mxcsr..], (uint)rng.Next() & cfg.MxcsrFeatureMask);
        if ((bv & XFeatureMasks.Sse) != 0)
            rng.NextBytes(regs.Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize));
        foreach (int i in cfg.ExtendedInOrder(bv & fps.Xfeatures & ~XFeatureMasks.Pkru))
            rng.NextBytes(regs.Slice(cfg.KernelOffset(fps.XcompBv, i), cfg.Size(i)));
        ulong sup = fps.Xfeatures & UabiConfig.SupervisorAll;
        for (int i = 2; i < 63; i++)
            if ((sup >> i & 1) != 0)
                rng.NextBytes(regs.Slice(cfg.KernelOffset(fps.XcompBv, i), cfg.Size(i)));
        // PKRU keeps key 0 accessible (bits 0..1 clear) so a task resumed with it can still run.
        uint pkru = cfg.OsPke && rng.Next(4) != 0 ? (uint)rng.Next() & ~3u : 0;
        bv &= ~XFeatureMasks.Pkru;
        if (pkru != 0)
        {
            bv |= XFeatureMasks.Pkru;
            BinaryPrimitives.WriteUInt32LittleEndian(regs[cfg.KernelOffset(fps.XcompBv, (int)XFeature.Pkru)..], pkru);
        }
        fps.XstateBv = bv | sup;
        return new UabiTask(fps, pkru);
    }

    /// <summary>A valid NT_X86_XSTATE image (fpu_user_cfg.max_size bytes) for a default task, from
    /// <paramref name="seed"/>: the GET image of <see cref="Task"/>.</summary>
    public static byte[] XstateImage(UabiConfig cfg, int seed) =>
        PtraceRegsets.Get(cfg, Task(cfg, new Random(seed)), NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
}
