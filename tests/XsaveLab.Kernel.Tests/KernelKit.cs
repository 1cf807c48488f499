namespace XsaveLab.Kernel.Tests;

/// <summary>Helpers for kernel-level tests.</summary>
internal static class KernelKit
{
    public static LinuxKernel Kernel(string cpu, string variant = "6.17", int cpus = 4, BootOptions? options = null) =>
        new(FpuSystem.Boot(TestEnv.CatalogCpu(cpu), KernelVariants.Get(variant), options), cpus);

    /// <summary>A <see cref="Kernel(string, string, int, BootOptions?)"/> with one process, <paramref name="name"/>,
    /// spawned and scheduled on CPU 0.</summary>
    public static (LinuxKernel K, KernelTask T) Running(string name, string cpu, string variant = "6.17", int cpus = 4, BootOptions? options = null)
    {
        var k = Kernel(cpu, variant, cpus, options);
        var t = k.SpawnProcess(name);
        k.Schedule(0, t);
        return (k, t);
    }

    /// <summary>An spr kernel on one CPU with process <paramref name="name"/> running, permitted AMX for guests,
    /// and its guest fpstate allocated with AMX enabled (each step asserted to succeed).</summary>
    public static (LinuxKernel K, KernelTask T, FpuGuest G) GuestWithAmx(string name)
    {
        var (k, t) = Running(name, "spr", "6.17", 1);
        Assert.Equal(0, k.ArchPrctlRequest(t, 18, guest: true));
        var g = k.FpuAllocGuestFpstate(t);
        Assert.Equal(0, k.FpuEnableGuestXfdFeatures(t, g, XFeatureMasks.Xtile));
        return (k, t, g);
    }

    public static LinuxKernel Kernel(CpuProfile cpu, KernelVariant variant, int cpus = 4) =>
        new(FpuSystem.Boot(cpu, variant), cpus);

    /// <summary>Random non-init bytes for a component (first byte odd, as the selftests force).</summary>
    public static byte[] RandomData(LinuxKernel k, int component, Random rng)
    {
        var data = new byte[k.System.FeatureSize(component)];
        rng.NextBytes(data);
        data[0] |= 1;
        return data;
    }

    /// <summary>User components a test can write and read back: AVX, AVX-512, AMX tile data, APX, and SSE.</summary>
    public static IEnumerable<int> TestableComponents(LinuxKernel k)
    {
        if (!k.System.XsaveEnabled)
        {
            yield return (int)XFeature.Sse; // FXSAVE systems: XMM registers
            yield break;
        }
        foreach (var f in new[] { XFeature.Sse, XFeature.Ymm, XFeature.Opmask, XFeature.ZmmHi256, XFeature.Hi16Zmm, XFeature.XtileData, XFeature.Apx })
            if ((k.System.Xcr0 & (1UL << (int)f)) != 0)
                yield return (int)f;
    }

    public static void AssertInvariants(LinuxKernel k, string context = "")
    {
        var bad = FpuInvariants.Check(k);
        Assert.True(bad.Count == 0, $"{context}: {string.Join("; ", bad)}");
    }

    public static bool HasAmx(CpuProfile cpu) =>
        (FpuSystem.Boot(cpu).UserCfg.MaxFeatures & XFeatureMasks.XtileData) != 0;

    /// <summary>Catalog CPUs whose 6.17 boot enables AMX tile data (with XFD).</summary>
    public static IEnumerable<object[]> AmxCpus() =>
        XsaveLab.Arch.Catalog.CpuCatalog.Entries.Where(e => HasAmx(e.Profile)).Select(e => new object[] { e.Name });

    public static IEnumerable<object[]> AllCpus() => TestEnv.CatalogNames();

    public static IEnumerable<object[]> CpusAndVariants() =>
        from c in XsaveLab.Arch.Catalog.CpuCatalog.Names
        from v in KernelVariants.Main
        select new object[] { c, v.Name };
}
