namespace XsaveLab.Kvm.Tests;

internal static class TestCpus
{
    public static IEnumerable<object[]> Names() => CpuCatalog.Names.Select(n => new object[] { n });

    public static IEnumerable<object[]> NamesAndVariants() =>
        from n in CpuCatalog.Names from v in KernelVariants.Main select new object[] { n, v.Name };

    public static CpuProfile Get(string name) => CpuCatalog.Get(name);

    /// <summary>A catalog CPU with AMX and XFD (amx_test's requirement).</summary>
    public static CpuProfile? Amx() => CpuCatalog.All.FirstOrDefault(c => c.HasXfd && c.Has(CpuFeature.AmxTile) && c.Has(CpuFeature.Shstk));

    public static KvmSystem System(CpuProfile cpu, string variant = "6.17", KvmRelease release = KvmRelease.Kvm618) =>
        new(KvmSettings.For(cpu, KernelVariants.Get(variant), release));

    /// <summary>Catalog CPU <paramref name="name"/> and its KVM system, asserted to have XSAVE enabled.</summary>
    public static (CpuProfile Cpu, KvmSystem Sys) XsaveSystem(string name)
    {
        var cpu = Get(name);
        var sys = System(cpu);
        Assert.True(sys.Host.XsaveEnabled);
        return (cpu, sys);
    }

    public static KvmVcpu NewVcpu(KvmSystem sys, bool requestAmx = true, bool setCpuid = true)
    {
        if (requestAmx)
            sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
        var cpuid = sys.GetSupportedCpuid();
        var vm = sys.CreateVm();
        var (r, v) = vm.CreateVcpu(0);
        Assert.True(r.Ok, r.ToString());
        if (setCpuid)
        {
            var s = v!.SetCpuid2(cpuid);
            Assert.True(s.Ok, s.ToString());
        }
        return v!;
    }

    public static GuestOp[] Ops(params string[] ops) => ops.Select(o => GuestOp.Parse(o, out var e) ?? throw new ArgumentException(e)).ToArray();
}
