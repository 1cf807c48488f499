using System.Buffers.Binary;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Features;
using XsaveLab.Kernel.Boot;
using XsaveLab.Kernel.Uabi;

namespace XsaveLab.Kernel.Tests.Uabi;

/// <summary>Configurations to run the UABI properties on, and random kernel states.</summary>
internal static class UabiFixtures
{
    /// <summary>Catalog CPUs with XSAVE (plus this host), booted by the FPU core.</summary>
    public static IEnumerable<object[]> Cpus()
    {
        var names = XsaveLab.Arch.Catalog.CpuCatalog.Entries.Where(e => e.Profile.HasXsave).Select(e => e.Name).ToList();
        if (TestEnv.IsX86)
            names.Add("host");
        return names.Count == 0 ? [["(none)"]] : names.Select(n => new object[] { n });
    }

    public static UabiConfig? Config(string name)
    {
        CpuProfile? cpu = name == "host" ? (TestEnv.IsX86 ? TestEnv.HostProfile() : null)
            : XsaveLab.Arch.Catalog.CpuCatalog.TryGet(name, out var p) ? p : null;
        if (cpu is null || !cpu.HasXsave)
            return null;
        return UabiConfig.FromSystem(FpuSystem.Boot(cpu), 0x0000FFFF);
    }

    /// <summary>A task whose fpstate holds random register values in a random subset of the user features
    /// (plus any supervisor bits the buffer has), with a valid MXCSR, as a save by the CPU would leave it.</summary>
    public static UabiTask RandomTask(UabiConfig cfg, Random rng, ulong? inUse = null)
    {
        var fps = UabiFpState.CreateDefault(cfg);
        ulong user = fps.UserXfeatures;
        ulong bv = inUse ?? ((ulong)rng.NextInt64() & user);
        var regs = fps.Regs.AsSpan();
        // Legacy area: x87 environment and registers, MXCSR (valid bits only), XMM.
        if ((bv & XFeatureMasks.Fp) != 0)
        {
            rng.NextBytes(regs[..UabiOffsets.FpEnvSize]);
            rng.NextBytes(regs.Slice(UabiOffsets.StSpace, UabiOffsets.StSpaceSize));
        }
        if ((bv & (XFeatureMasks.Sse | XFeatureMasks.Ymm)) != 0)
            BinaryPrimitives.WriteUInt32LittleEndian(regs[UabiOffsets.Mxcsr..], (uint)rng.Next() & cfg.MxcsrFeatureMask);
        if ((bv & XFeatureMasks.Sse) != 0)
            rng.NextBytes(regs.Slice(UabiOffsets.XmmSpace, UabiOffsets.XmmSpaceSize));
        foreach (int i in cfg.ExtendedInOrder(bv & fps.Xfeatures & ~XFeatureMasks.Pkru))
            rng.NextBytes(regs.Slice(cfg.KernelOffset(fps.XcompBv, i), cfg.Size(i)));
        // Supervisor components the buffer holds (CET_USER …) keep random contents and stay in use.
        ulong sup = fps.Xfeatures & UabiConfig.SupervisorAll;
        for (int i = 2; i < 63; i++)
            if ((sup >> i & 1) != 0)
                rng.NextBytes(regs.Slice(cfg.KernelOffset(fps.XcompBv, i), cfg.Size(i)));
        // PKRU: the buffer holds thread.pkru as the last XSAVES saw it; in use iff non-zero.
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

    /// <summary>The architectural register values of the user features: the XSAVE-mode UABI image with the
    /// header's XSTATE_BV cleared (absent components already read as their init values).</summary>
    public static byte[] UserRegisters(UabiConfig cfg, UabiTask task)
    {
        var img = new byte[cfg.UserMaxSize];
        XstateUabi.CopyXstateToUabiBuf(cfg, task, XstateCopyMode.Xsave, img);
        img.AsSpan(UabiOffsets.XstateBv, 8).Clear();
        return img;
    }

    /// <summary><see cref="UserRegisters"/> with the PKRU component blanked (PKRU is compared separately as
    /// thread.pkru).</summary>
    public static byte[] UserRegistersButPkru(UabiConfig cfg, UabiTask task)
    {
        var img = UserRegisters(cfg, task);
        if (cfg.OsPke)
            img.AsSpan(cfg.StandardOffset((int)XFeature.Pkru), cfg.Size((int)XFeature.Pkru)).Clear();
        return img;
    }

    /// <summary>Supervisor component bytes of the kernel buffer (must survive every UABI write).</summary>
    public static byte[] SupervisorBytes(UabiConfig cfg, UabiTask task)
    {
        var fps = task.Fpstate;
        var list = new List<byte>();
        ulong sup = fps.Xfeatures & UabiConfig.SupervisorAll;
        for (int i = 2; i < 63; i++)
            if ((sup >> i & 1) != 0)
                list.AddRange(fps.Regs.AsSpan(cfg.KernelOffset(fps.XcompBv, i), cfg.Size(i)).ToArray());
        list.AddRange(BitConverter.GetBytes(fps.XstateBv & UabiConfig.SupervisorAll));
        return list.ToArray();
    }

    public static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b);
}
