namespace XsaveLab.Sim.Tests.Experiment;

public class CetSExperimentTests(ITestOutputHelper output)
{
    private static readonly ComponentBytes Sizes = new(new Dictionary<int, int> { [2] = 256, [5] = 64, [6] = 512, [7] = 1024 });

    private static CostModelParameters SyntheticCost() =>
        Calibrator.Run(new Tests.Cost.SyntheticTimer(Sizes, XFeatureMasks.FpSse | XFeatureMasks.Ymm | XFeatureMasks.Avx512, 1, 3)).Parameters
        with
        { SwitchFixedNs = 1500 };

    [Fact]
    public void Sweep_classifies_every_catalog_cpu_from_the_layout_rules()
    {
        var rows = CetSExperiment.Sweep(CpuCatalog.Entries);
        Assert.Equal(CpuCatalog.Entries.Count, rows.Count);
        foreach (var r in rows)
        {
            output.WriteLine($"{r.Cpu,-18} {r.Verdict,-22} {r.TaskBytesCase2}/{r.TaskBytesCase3} vcpu {r.VcpuBytesCase2}: {r.Why}");
            var p = CpuCatalog.Get(r.Cpu);
            if (!r.HasCetS)
            {
                Assert.Equal(0, r.SavingBytes);
                continue;
            }
            // The saving is what xstate_calculate_size() gives with and without CET_S on top of case 2's defaults.
            ulong f = XFeatureMasks.FpSse;
            int with = r.TaskBytesCase3!.Value, without = r.TaskBytesCase2!.Value;
            Assert.Equal(with - without, r.SavingBytes);
            Assert.Equal(r.VcpuBytesCase2, with); // a case-2 guest fpstate has exactly case 3's task features
            Assert.Equal(r.SavingBytes == 0, r.Verdict.StartsWith("saving 0"));
            _ = f; _ = p;
        }
        Assert.Contains(rows, r => r.Verdict == "24-byte saving holds");
        Assert.Contains(rows, r => r.Verdict == "CET_S absent");
    }

    [Fact]
    public void Amx_parts_lose_the_saving_to_tile_config_alignment()
    {
        var spr = CetSExperiment.Sweep(CpuCatalog.Entries).Single(r => r.Cpu == "spr");
        var p = CpuCatalog.Get("spr");
        Assert.True(spr.HasCetS);
        Assert.True(p.Component((int)XFeature.XtileCfg)!.Value.Aligned64);
        Assert.Equal(0, spr.SavingBytes);
        Assert.Contains("XTILE", spr.Why, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void On_zen5_case2_saves_cet_s_bytes_per_thread_and_bytes_per_switch_do_not_change()
    {
        var r = CetSExperiment.Run(CpuCatalog.Get("zen5-turin"), new CetSOptions { CostModel = SyntheticCost(), Tasks = 100, Vcpus = 2 });
        var c2 = r.Variants.Single(v => v.Name == "6.17");
        var c3 = r.Variants.Single(v => v.Name == "case3");
        var c1 = r.Variants.Single(v => v.Name == "6.16");
        int cetS = CpuCatalog.Get("zen5-turin").Component(12)!.Value.Size;
        Assert.Equal(cetS, c3.TaskFpstateBytes - c2.TaskFpstateBytes);
        Assert.Equal(c3.TaskFpstateBytes, c2.VcpuFpstateBytes);
        Assert.Equal(c1.TaskFpstateBytes, c2.TaskFpstateBytes);
        Assert.Equal(c2.SavedBytesPerSwitch, c3.SavedBytesPerSwitch);
        Assert.Equal(c2.RestoredBytesPerSwitch, c3.RestoredBytesPerSwitch);
        Assert.Equal((100L + 2) * cetS, c3.FpstateMemoryBytes - c2.FpstateMemoryBytes); // vCPU threads have a host fpstate too
        Assert.Equal(cetS == 24, r.Claims.Single(c => c.Id == "saves-24-bytes").Confirmed);
        Assert.NotNull(c2.PredictedThroughputDeltaPct);
        Assert.Equal(0, c1.PredictedThroughputDeltaPct);
        Assert.DoesNotContain(r.Variants, v => v.Name == "6.15"); // identical to 6.16 in these numbers
    }

    [Fact]
    public void Without_a_cost_model_times_are_null_and_claim_1_is_not_decided()
    {
        var r = CetSExperiment.Run(CpuCatalog.Get("zen4-genoa"), new CetSOptions { SimulatedSwitches = 2000 });
        Assert.All(r.Variants, v => Assert.Null(v.PredictedNsPerSwitch));
        Assert.Equal(ClaimVerdict.Inconclusive, r.Claims.Single(c => c.Id == "within-variation").Verdict);
        Assert.Null(r.Measured);
    }

    [Fact]
    public void Breakdown_terms_add_up_to_the_predicted_time_and_the_counted_bytes()
    {
        var r = CetSExperiment.Run(CpuCatalog.Get("zen5-turin"), new CetSOptions { CostModel = SyntheticCost(), SimulatedSwitches = 4000 });
        foreach (var v in r.Variants)
        {
            var b = v.Breakdown!;
            Assert.Equal(v.PredictedNsPerSwitch!.Value, b.TotalNs, 6);
            Assert.Equal(v.SavedBytesPerSwitch, b.Save.Bytes, 9);
            Assert.Equal(v.RestoredBytesPerSwitch, b.Restore.Bytes, 9);
            Assert.Equal(1500, b.FixedNs);
        }
        // The throughput change is recomputable from the totals.
        double base16 = r.Variants.Single(v => v.Name == "6.16").Breakdown!.TotalNs;
        foreach (var v in r.Variants)
            Assert.Equal((base16 / v.Breakdown!.TotalNs - 1) * 100, v.PredictedThroughputDeltaPct!.Value, 9);
    }

    [Fact]
    public void Claim_1_agrees_with_each_variants_band_against_the_threshold()
    {
        var r = CetSExperiment.Run(CpuCatalog.Get("spr"), new CetSOptions { CostModel = SyntheticCost(), SimulatedSwitches = 2000 });
        Assert.Equal(CetSExperiment.ReportedVariationPct, r.VariationThresholdPct);
        foreach (var v in r.Variants)
            Assert.Equal(ClaimVerdicts.Within(v.PredictedThroughputDeltaPct!.Value, v.PredictedThroughputDeltaUncertaintyPct!.Value, r.VariationThresholdPct), v.WithinVariation);
        var parts = r.Variants.Where(v => v.Name is "6.17" or "case3").Select(v => v.WithinVariation!.Value).ToArray();
        Assert.Equal(ClaimVerdicts.All(parts), r.Claims.Single(c => c.Id == "within-variation").Verdict);
    }

    [Fact]
    public void Without_a_file_or_a_request_to_calibrate_the_runner_uses_the_shipped_model_and_times_nothing()
    {
        var o = new CetSRunOptions { Tasks = 10, Vcpus = 1 };
        var a = CetSRunner.Run(CpuCatalog.Get("spr"), cpuIsHost: false, o);
        var b = CetSRunner.Run(CpuCatalog.Get("spr"), cpuIsHost: false, o);
        Assert.StartsWith("shipped reference model", a.CostModel);
        Assert.Null(a.Measured);
        Assert.Empty(a.Warnings);
        Assert.Equal(a.Variants.Select(v => v.PredictedThroughputDeltaPct), b.Variants.Select(v => v.PredictedThroughputDeltaPct));
        Assert.Equal(a.Claims.Select(c => c.Evidence), b.Claims.Select(c => c.Evidence));
    }

    [Fact]
    public void A_cpu_without_xsave_is_neither_calibrated_nor_measured()
    {
        var r = CetSRunner.Run(CpuCatalog.Get("nehalem"), cpuIsHost: true, new CetSRunOptions { Calibrate = true, Measure = true, MeasureRuns = 1 });
        Assert.StartsWith("shipped reference model", r.CostModel);
        Assert.Null(r.Measured);
        Assert.Contains(r.Notes, n => n.Contains("no XSAVE"));
    }

    [Fact]
    public void Cpu_without_cet_reports_the_claim_as_not_confirmed()
    {
        var r = CetSExperiment.Run(CpuCatalog.Get("icx"), new CetSOptions { SimulatedSwitches = 2000 });
        var claim = r.Claims.Single(c => c.Id == "saves-24-bytes");
        Assert.False(claim.Confirmed);
        Assert.Contains("no CET_S", claim.Evidence);
    }

    [SkippableFact]
    public void On_this_host_case3_task_buffer_is_the_cpuid_compacted_size_and_case2_is_smaller_by_cet_s()
    {
        var why = HostCpu.Unavailable();
        Skip.If(why is not null, why);
        Assert.True(HostCpu.TryRead(out var host, out _));
        Skip.IfNot((host!.SupportedXss & XFeatureMasks.CetKernel) != 0 && host.Has(XsaveLab.Arch.Features.CpuFeature.Shstk),
            "this CPU has no CET supervisor state");
        var r = CetSExperiment.Run(host, new CetSOptions { SimulatedSwitches = 2000 });
        var c2 = r.Variants.Single(v => v.Name == "6.17");
        var c3 = r.Variants.Single(v => v.Name == "case3");
        // CPUID(0xD,1).EBX: size of XCR0|IA32_XSS in compacted form — what case 3 gives every task when the
        // kernel enables every supported supervisor feature (the dmesg "context size").
        int cpuidSize = (int)X86Base.CpuId(0xD, 1).Ebx;
        ulong enabledXss = (ulong)(uint)X86Base.CpuId(0xD, 1).Ecx & (XFeatureMasks.CetUser | XFeatureMasks.CetKernel);
        Skip.IfNot(enabledXss == (XFeatureMasks.CetUser | XFeatureMasks.CetKernel), "XSS supports more than CET here");
        Assert.Equal(cpuidSize, c3.TaskFpstateBytes);
        Assert.Equal(c3.TaskFpstateBytes, c2.VcpuFpstateBytes);
        Assert.Equal(XStateGeometry.Size(host, Convert.ToUInt64(c2.TaskLayout.Xfeatures, 16), true), c2.TaskFpstateBytes);
        output.WriteLine($"host: task {c2.TaskFpstateBytes} B (case 2) vs {c3.TaskFpstateBytes} B (case 3)");
    }
}
