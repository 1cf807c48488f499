namespace XsaveLab.Kernel.Tests;

public class CatalogBootTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cpus() => TestEnv.CatalogNames();

    [SkippableTheory]
    [MemberData(nameof(Cpus))]
    public void Every_variant_boots_as_the_kernel_would(string name)
    {
        var cpu = TestEnv.CatalogCpu(name);
        foreach (var v in KernelVariants.All)
        {
            var sys = FpuSystem.Boot(cpu, v);
            output.WriteLine($"{v.Name,-8} {string.Join(" | ", sys.Dmesg.Where(l => l.Contains("Enabled") || l.Contains("will use") || l.Contains("disabled")))} kdef={sys.KernelCfg.DefaultSize} guest={sys.GuestDefaultCfg.Size} umax={sys.UserCfg.MaxSize} frame={sys.MaxFrameSize} save={sys.SaveInstruction}");
            BootChecks.AssertConsistent(sys);
        }
    }

    [SkippableFact]
    public void Every_shared_dump_boots_consistently()
    {
        var dumps = TestEnv.SharedDumps();
        Skip.If(dumps.Count == 0, "shared/cpuid-dumps is absent next to the repository");
        foreach (var cpu in dumps)
            foreach (var v in KernelVariants.All)
                BootChecks.AssertConsistent(FpuSystem.Boot(cpu, v));
    }
}

/// <summary>Invariants 1–3 of docs/linux-fpu-core.md of a booted system, derived from the rules.</summary>
internal static class BootChecks
{
    public static void AssertConsistent(FpuSystem sys)
    {
        var cpu = sys.Profile;
        var v = sys.Variant;
        if (!cpu.HasLeafD || !sys.Caps.Xsave)
        {
            Assert.False(sys.XsaveEnabled);
            Assert.Contains(sys.Dmesg, l => l == $"x86/fpu: x87 FPU will use {(sys.Caps.Fxsr ? "FXSAVE" : "FSAVE")}");
            Assert.Equal(sys.LegacySize, sys.KernelCfg.MaxSize);
            Assert.Equal(sys.LegacySize, sys.GuestDefaultCfg.Size);
            return;
        }
        if (sys.XsaveDisabledAtBoot)
        {
            Assert.Contains("x86/fpu: XSAVE disabled", sys.Dmesg);
            Assert.Equal(0UL, sys.KernelCfg.MaxFeatures);
            return;
        }
        var k = sys.KernelCfg;
        var u = sys.UserCfg;
        var g = sys.GuestDefaultCfg;
        Assert.True(XFeatureMasks.IsSubset(g.Features, k.MaxFeatures));
        Assert.True(XFeatureMasks.IsSubset(k.DefaultFeatures, g.Features));
        if (!v.DeferredGuestSupervisor)
            Assert.Equal(k.MaxFeatures & (v.HostDefaultsExcludeGuestSupervisor ? v.GuestSupervisorMask : 0), g.Features & ~k.DefaultFeatures);
        Assert.True(XFeatureMasks.IsSubset(u.MaxFeatures, XFeatureMasks.UserSupported));
        Assert.Equal(u.MaxFeatures & ~XFeatureMasks.UserDynamic, u.DefaultFeatures);
        Assert.Equal(sys.CalculateSize(k.MaxFeatures, sys.Compacted), k.MaxSize);
        Assert.Equal(sys.CalculateSize(g.Features, sys.Compacted), g.Size);
        Assert.Equal(sys.CalculateSize(k.DefaultFeatures, sys.Compacted), k.DefaultSize);
        Assert.Equal(u.MaxFeatures, sys.Xcr0);
        Assert.True(XFeatureMasks.IsSubset(k.MaxFeatures, cpu.SupportedXcr0 | cpu.SupportedXss));
        if (!v.CetKernelSupported)
            Assert.Equal(0UL, k.MaxFeatures & XFeatureMasks.CetKernel);
        // The summary line is last and reports kernel max (never the default or guest size).
        string fmt = sys.Compacted ? "compacted" : "standard";
        Assert.Contains($"x86/fpu: Enabled xstate features 0x{k.MaxFeatures:x}, context size is {k.MaxSize} bytes, using '{fmt}' format.", sys.Dmesg);
        int supporting = sys.Dmesg.Count(l => l.StartsWith("x86/fpu: Supporting XSAVE feature", StringComparison.Ordinal));
        Assert.Equal(System.Numerics.BitOperations.PopCount(k.MaxFeatures), supporting);
        int offsets = sys.Dmesg.Count(l => l.StartsWith("x86/fpu: xstate_offset[", StringComparison.Ordinal));
        Assert.Equal(System.Numerics.BitOperations.PopCount(k.MaxFeatures & XFeatureMasks.Extend), offsets);
    }
}
