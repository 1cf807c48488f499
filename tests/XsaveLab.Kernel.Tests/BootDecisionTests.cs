namespace XsaveLab.Kernel.Tests;

/// <summary>The boot says where it left the default path: every state component the CPU enumerates and Linux
/// supports but the boot did not enable has a decision naming the reason, and cleared features name their cause.</summary>
public class BootDecisionTests
{
    public static TheoryData<string> Cpus => [.. CpuCatalog.Names];

    [Theory]
    [MemberData(nameof(Cpus))]
    public void Every_supported_component_the_cpu_offers_but_the_boot_drops_has_a_decision(string name)
    {
        var cpu = CpuCatalog.Get(name);
        var sys = FpuSystem.Boot(cpu);
        if (!sys.XsaveEnabled)
            return;
        ulong offered = cpu.SupportedXcr0 | cpu.SupportedXss;
        for (int i = 2; i < XFeatureTable.Count; i++)
        {
            var info = XFeatureTable.Get(i);
            bool linuxKnows = sys.Variant.Gate(i) is not null && (XFeatureMasks.UserSupported | sys.Variant.SupervisorSupported) is var s && (s >> i & 1) != 0;
            if ((offered >> i & 1) == 0 || !linuxKnows || (sys.KernelCfg.MaxFeatures >> i & 1) != 0)
                continue;
            var d = Assert.Single(sys.Decisions, d => d.Subject == info.ShortName);
            Assert.True(d.Dropped, d.ToString());
            Assert.False(string.IsNullOrWhiteSpace(d.Reason));
        }
        // And nothing enabled is reported as dropped.
        foreach (var d in sys.Decisions.Where(d => d.Outcome == "dropped"))
        {
            int i = XFeatureTable.All.Single(f => f.ShortName == d.Subject).Number;
            Assert.Equal(0UL, sys.KernelCfg.MaxFeatures >> i & 1);
        }
    }

    [Theory]
    [MemberData(nameof(Cpus))]
    public void A_missing_gate_is_named_by_its_cpuid_bit(string name)
    {
        var cpu = CpuCatalog.Get(name);
        var sys = FpuSystem.Boot(cpu);
        foreach (var d in sys.Decisions.Where(d => d.Outcome == "dropped" && d.Reason.StartsWith("CPUID.", StringComparison.Ordinal)))
        {
            var info = XFeatureTable.All.Single(f => f.ShortName == d.Subject);
            // PKRU's gate is OSPKE, which follows PKU (the kernel sets CR4.PKE itself).
            var gate = info.Gate == CpuFeature.OsPke ? CpuFeature.Pku : info.Gate;
            Assert.False(cpu.Has(gate), d.ToString());
            Assert.Contains(CpuFeatureNames.Cpuid(gate), d.Reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Cpus))]
    public void Erratum_1386_is_named_where_it_clears_xsaves(string name)
    {
        var cpu = CpuCatalog.Get(name);
        var sys = FpuSystem.Boot(cpu);
        var cleared = sys.Decisions.Where(d => d.Subject == "XSAVES" && d.Outcome == "cleared").ToList();
        if (sys.Caps.Erratum1386Applied)
        {
            var d = Assert.Single(cleared);
            Assert.Contains("1386", d.Reason, StringComparison.Ordinal);
            Assert.Contains("fix_erratum_1386()", d.Function, StringComparison.Ordinal);
            Assert.Contains(sys.Decisions, x => x.Subject == "XSAVES" && x.Outcome == "not used" && x.Reason.Contains(sys.SaveInstruction.ToString().ToUpperInvariant(), StringComparison.Ordinal));
        }
        else
            Assert.Empty(cleared);
        var unfixed = FpuSystem.Boot(cpu, options: BootOptions.Default with { AmdErratum1386 = false });
        Assert.DoesNotContain(unfixed.Decisions, d => d.Reason.Contains("1386", StringComparison.Ordinal));
    }

    [Fact]
    public void Noxsaves_clears_its_dependents_and_drops_the_state_they_gate()
    {
        var cpu = CpuCatalog.Get("spr");
        var sys = FpuSystem.Boot(cpu, options: BootOptions.Default with { NoXsaves = true });
        var byName = sys.Decisions.ToLookup(d => d.Subject);
        Assert.Contains(byName["XSAVES"], d => d.Outcome == "cleared" && d.Reason.Contains("noxsaves", StringComparison.Ordinal));
        // cpuid-deps.c: XFD, SHSTK and ENQCMD depend on XSAVES; AMX_TILE on XFD.
        foreach (var f in new[] { CpuFeature.Xfd, CpuFeature.Shstk, CpuFeature.Enqcmd, CpuFeature.AmxTile }.Where(cpu.Has))
            Assert.Contains(byName[CpuFeatureNames.KernelName(f)], d => d.Outcome == "cleared" && d.Function.Contains("do_clear_cpu_cap()", StringComparison.Ordinal));
        // Every component the default boot had and this one lacks is reported dropped.
        var normal = FpuSystem.Boot(cpu);
        ulong lost = normal.KernelCfg.MaxFeatures & ~sys.KernelCfg.MaxFeatures;
        Assert.NotEqual(0UL, lost);
        for (int i = 0; i < 64; i++)
            if ((lost >> i & 1) != 0)
                Assert.Contains(sys.Decisions, d => d.Subject == XFeatureTable.Get(i).ShortName && d.Dropped);
    }

    [Fact]
    public void The_landed_kernel_says_cet_s_stays_out_of_host_tasks_and_case3_does_not()
    {
        var cpu = CpuCatalog.All.First(c => FpuSystem.Boot(c).KernelCfg.MaxFeatures is var m && (m & XFeatureMasks.CetKernel) != 0);
        var landed = FpuSystem.Boot(cpu, KernelVariants.V6_17);
        Assert.Contains(landed.Decisions, d => d.Subject == "CET_S" && d.Function == "host_default_mask()" && !d.Dropped);
        Assert.DoesNotContain(FpuSystem.Boot(cpu, KernelVariants.Case3).Decisions, d => d.Subject == "CET_S");
    }
}
