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

    /// <summary>The configuration of <paramref name="name"/>; skips the test when it has none.</summary>
    public static UabiConfig RequireConfig(string name)
    {
        var cfg = Config(name);
        Skip.If(cfg is null, $"{name}: no XSAVE or catalog missing");
        return cfg!;
    }

    /// <summary>This host's configuration, else the first catalog CPU's; skips the test when there is none.</summary>
    public static UabiConfig AnyConfig()
    {
        var cfg = Config("host") ?? Cpus().Select(r => Config((string)r[0])).FirstOrDefault(c => c is not null);
        Skip.If(cfg is null, "no XSAVE configuration available");
        return cfg!;
    }

    /// <summary><paramref name="count"/> random tasks, the one for seed n made from <c>new Random(n)</c>, which is
    /// returned with it for the test's further draws.</summary>
    public static IEnumerable<(int Seed, Random Rng, UabiTask Task)> RandomTasks(UabiConfig cfg, int count)
    {
        for (int seed = 0; seed < count; seed++)
        {
            var rng = new Random(seed);
            yield return (seed, rng, RandomTask(cfg, rng));
        }
    }

    public static UabiTask RandomTask(UabiConfig cfg, Random rng, ulong? inUse = null) => UabiRandom.Task(cfg, rng, inUse);

    /// <summary>The architectural register values of the user features: the XSAVE-mode UABI image with the
    /// header's XSTATE_BV cleared (absent components already read as their init values).</summary>
    public static byte[] UserRegisters(UabiConfig cfg, UabiTask task)
    {
        var img = new byte[cfg.UserMaxSize];
        XstateUabi.CopyXstateToUabiBuf(cfg, task, XstateCopyMode.Xsave, img);
        img.AsSpan(XsaveOffsets.XstateBv, 8).Clear();
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
                list.AddRange(fps.Buffer.AsSpan(cfg.KernelOffset(fps.XcompBv, i), cfg.Size(i)).ToArray());
        list.AddRange(BitConverter.GetBytes(fps.XstateBv & UabiConfig.SupervisorAll));
        return list.ToArray();
    }

    public static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b);
}
