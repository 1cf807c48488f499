namespace XsaveLab.Kernel.Tests;

/// <summary>Boot options, the legacy and disable paths, CPU programming, and the boot-time checks.</summary>
public class BootPathTests
{
    private static CpuProfile Derived(CpuProfile real, string what, Func<CpuidLeaf, CpuidLeaf> change, params CpuidLeaf[] extra) =>
        new(real.Name + "-" + what, "derived: " + what, real.Leaves.Select(change).Concat(extra));

    [Fact]
    public void Noxsave_takes_the_FXSAVE_path()
    {
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu("spr"), options: new BootOptions { NoXsave = true });
        Assert.False(sys.XsaveEnabled);
        Assert.Equal(["x86/fpu: x87 FPU will use FXSAVE"], sys.Dmesg.Where(l => l.StartsWith("x86/fpu:", StringComparison.Ordinal)));
        Assert.Equal(FpuSystem.FxregsStateSize, sys.KernelCfg.DefaultSize);
        Assert.Equal(FpuSystem.FxregsStateSize, sys.GuestDefaultCfg.Size);
        Assert.Equal(XFeatureMasks.FpSse, sys.UserCfg.LegacyFeatures);
        Assert.Equal(SaveInstruction.Fxsave, sys.SaveInstruction);
        // AT_MINSIGSTKSZ without XSAVE: no MAGIC2 word.
        Assert.Equal((FpuSystem.SigframeBaseSize(true) + 15 + 512 + 112 + 63 + 15) & ~15, sys.MaxFrameSize);
    }

    [Fact]
    public void Noxsaves_drops_supervisor_state_XFD_and_AMX_but_stays_compacted()
    {
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu("spr"), options: new BootOptions { NoXsaves = true });
        Assert.True(sys.XsaveEnabled && sys.Compacted);
        Assert.Equal(SaveInstruction.Xsavec, sys.SaveInstruction);
        Assert.False(sys.Caps.Xfd);
        Assert.False(sys.Caps.Has(CpuFeature.Shstk));
        Assert.Equal(0UL, sys.KernelCfg.MaxFeatures & ~XFeatureMasks.UserSupported);
        Assert.Equal(0UL, sys.KernelCfg.MaxFeatures & XFeatureMasks.XtileData);
        Assert.False(sys.Caps.Has(CpuFeature.AmxTile)); // AMX_TILE depends on XFD (cpuid-deps.c), so tile config goes too
        Assert.Equal(0UL, sys.KernelCfg.MaxFeatures & XFeatureMasks.XtileCfg);
        Assert.Equal(0UL, sys.Xss);
        Assert.Equal(0UL, sys.InitXfd);
    }

    [Fact]
    public void Clearcpuid_shstk_removes_both_CET_components()
    {
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu("tgl"), options: new BootOptions { ClearCpuFeatures = [CpuFeature.Shstk] });
        Assert.Equal(0UL, sys.KernelCfg.MaxFeatures & (XFeatureMasks.CetUser | XFeatureMasks.CetKernel));
        Assert.Equal(sys.KernelCfg.DefaultSize, sys.GuestDefaultCfg.Size);
    }

    [Fact]
    public void Amd_family_17h_loses_XSAVES_to_erratum_1386()
    {
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu("zen2-matisse"));
        Assert.True(sys.Caps.Erratum1386Applied);
        Assert.Equal(SaveInstruction.Xsavec, sys.SaveInstruction);
        var off = FpuSystem.Boot(TestEnv.CatalogCpu("zen2-matisse"), options: new BootOptions { AmdErratum1386 = false });
        Assert.Equal(off.Profile.HasXsaves ? SaveInstruction.Xsaves : SaveInstruction.Xsavec, off.SaveInstruction);
    }

    [Fact]
    public void Missing_FP_SSE_in_leaf_0xD_disables_XSAVE()
    {
        var real = TestEnv.CatalogCpu("skx");
        var cpu = Derived(real, "no-sse-in-xcr0", l => l.Leaf == 0xD && l.Subleaf == 0 ? l with { Eax = l.Eax & ~2u } : l);
        var sys = FpuSystem.Boot(cpu);
        ulong max = (cpu.Leaf(0xD, 0).Eax | (ulong)cpu.Leaf(0xD, 0).Edx << 32) | cpu.Leaf(0xD, 1).Ecx | (ulong)cpu.Leaf(0xD, 1).Edx << 32;
        Assert.Equal(
            [$"x86/fpu: FP/SSE not present amongst the CPU's xstate features: 0x{max:x}.", "x86/fpu: XSAVE disabled"],
            sys.Dmesg.Where(l => l.StartsWith("x86/fpu:", StringComparison.Ordinal)));
        Assert.False(sys.XsaveEnabled);
        Assert.True(sys.XsaveDisabledAtBoot);
        Assert.Equal(sys.LegacySize, sys.KernelCfg.MaxSize);
        Assert.Equal(sys.LegacySize, sys.GuestDefaultCfg.Size);
        Assert.Equal(0UL, sys.InitXfd);
        // A kernel on it still runs, with FXSAVE.
        var k = new LinuxKernel(sys, 1);
        var t = k.SpawnProcess("p");
        k.Schedule(0, t);
        Assert.False(k.Cpus[0].Cpu.OsXsave);
        Assert.True(k.UseComponent(t, 1, new byte[256]).Done);
    }

    [Fact]
    public void APX_and_MPX_together_disable_XSAVE()
    {
        var real = TestEnv.CatalogCpu("skx");
        Assert.NotEqual(0UL, real.SupportedXcr0 & XFeatureMasks.Mpx);
        var cpu = Derived(real, "apx",
            l => l.Leaf == 0xD && l.Subleaf == 0 ? l with { Eax = l.Eax | (uint)XFeatureMasks.Apx } : l,
            new CpuidLeaf(0xD, 19, 128, 960, 0, 0));
        var sys = FpuSystem.Boot(cpu);
        Assert.Contains(sys.Dmesg, l => l.StartsWith("x86/fpu: Both APX/MPX present in the CPU's xstate features: 0x", StringComparison.Ordinal));
        Assert.Contains("x86/fpu: XSAVE disabled", sys.Dmesg);
        Assert.False(sys.XsaveEnabled);
    }

    [Fact]
    public void Component_size_mismatch_warns_but_boots()
    {
        var real = TestEnv.CatalogCpu("icx");
        var cpu = Derived(real, "odd-pkru", l => l.Leaf == 0xD && l.Subleaf == 9 ? l with { Eax = 64 } : l);
        var sys = FpuSystem.Boot(cpu);
        Assert.True(sys.XsaveEnabled);
        Assert.Contains("[Protection Keys User registers]: struct is 8 bytes, cpu state 64 bytes", sys.Warnings);
        Assert.Contains(sys.Dmesg, l => l.StartsWith("CPUID[0d, 00]: eax=", StringComparison.Ordinal));
        Assert.Contains(sys.Dmesg, l => l.StartsWith("x86/fpu: Enabled xstate features", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(KernelKit.AllCpus), MemberType = typeof(KernelKit))]
    public void Every_cpu_is_programmed_by_fpu_init_cpu_xstate(string name)
    {
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu(name));
        var k = new LinuxKernel(sys, 2);
        foreach (var kc in k.Cpus)
        {
            Assert.Equal(sys.XsaveEnabled, kc.Cpu.OsXsave);
            if (!sys.XsaveEnabled)
                continue;
            Assert.Equal(sys.Xcr0, kc.Cpu.Xcr0);
            Assert.Equal(sys.Caps.Xsaves ? sys.Xss : 0, kc.Cpu.Xss);
            Assert.Equal(sys.InitXfd, kc.Cpu.Xfd);
            Assert.False(kc.Cpu.Xgetbv(0, out ulong xcr0).IsFault);
            Assert.Equal(sys.Xcr0, xcr0);
        }
    }

    [Fact]
    public void Series_v4_warning_catches_a_host_fpstate_with_guest_only_state()
    {
        // v4 as posted never has CET_KERNEL in a host buffer: no warning.
        var ok = KernelKit.Kernel("tgl", "v4", 1);
        var t = ok.SpawnProcess("p");
        ok.Schedule(0, t);
        ok.Deschedule(0);
        Assert.Empty(ok.Warnings.Entries);
        // v4 without the one-line host-default change (CET_KERNEL in every task): the debug check fires.
        var broken = KernelVariants.V4 with { Name = "v4-without-host-mask", HostDefaultsExcludeGuestSupervisor = false };
        var k = new LinuxKernel(FpuSystem.Boot(TestEnv.CatalogCpu("tgl"), broken), 1);
        var p = k.SpawnProcess("p");
        k.Schedule(0, p);
        k.Deschedule(0);
        Assert.Contains(k.Warnings.Entries, w => w.Contains("guest-only", StringComparison.Ordinal));
    }

    [Fact]
    public void Variants_are_selectable_by_name_and_cite_their_commits()
    {
        foreach (var name in new[] { "6.15", "6.16", "6.17", "case3", "deferred", "v3", "v4" })
        {
            var v = KernelVariants.Get(name);
            Assert.Equal(name, v.Name);
            Assert.NotEmpty(v.Differences);
            Assert.All(v.Differences, d => Assert.False(string.IsNullOrWhiteSpace(d.Source)));
        }
        Assert.Same(KernelVariants.V6_17, KernelVariants.Default);
        Assert.Throws<ArgumentException>(() => KernelVariants.Get("6.99"));
        Assert.Contains(KernelVariants.V6_15.Differences, d => d.Source.StartsWith("d8414603b29f", StringComparison.Ordinal));
    }
}
