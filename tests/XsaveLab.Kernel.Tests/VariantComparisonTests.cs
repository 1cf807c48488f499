namespace XsaveLab.Kernel.Tests;

public class VariantComparisonTests
{
    [Theory]
    [InlineData("tgl")]
    [InlineData("adl")]
    [InlineData("zen4-genoa")]
    public void Variants_differ_by_CET_KERNEL_space_only_where_the_rules_say(string cpu)
    {
        var profile = TestEnv.CatalogCpu(cpu);
        var cmp = VariantComparison.Measure(profile);
        var r = cmp.Rows.ToDictionary(x => x.Variant);
        var sys = FpuSystem.Boot(profile, KernelVariants.V6_17);
        bool cet = (sys.KernelCfg.MaxFeatures & XFeatureMasks.CetKernel) != 0;
        int withCet = sys.CalculateSize(sys.KernelCfg.DefaultFeatures | (cet ? XFeatureMasks.CetKernel : 0), sys.Compacted);
        Assert.Equal(sys.KernelCfg.DefaultSize, r["6.17"].TaskBytes);
        Assert.Equal(withCet, r["case3"].TaskBytes);
        Assert.Equal(withCet, r["6.17"].VcpuBytes);
        Assert.Equal(r["6.17"].TaskBytes, r["deferred"].VcpuBytes);
        Assert.Equal(withCet, r["deferred"].VcpuBytesWithCet);
        Assert.Equal(r["6.15"].TaskBytes, r["6.15"].VcpuBytes);
        Assert.False(r["6.15"].XssCetKernel);
        Assert.Equal(cet, r["6.17"].XssCetKernel);
        Assert.False(r["6.17"].HostRfbmCetKernel);
        Assert.Equal(cet, r["case3"].HostRfbmCetKernel);
        // The init optimization: host tasks never touch CET_S, so case 3 stores the same bytes per save.
        Assert.Equal(r["6.17"].HostSaveBytes, r["case3"].HostSaveBytes);
        Assert.Equal(r["case3"].TaskBytes, r["case3"].HostSaveFootprint);
        if (cet)
            Assert.True(r["6.17"].GuestSaveBytes > r["6.17"].HostSaveBytes);
    }

    [Fact]
    public void Boot_report_carries_the_configs()
    {
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu("spr"));
        var rep = BootReport.From(sys);
        Assert.Equal("6.17", rep.Kernel);
        Assert.Equal(sys.Dmesg, rep.Dmesg);
        Assert.Equal(sys.GuestDefaultCfg.Size, rep.GuestFpstateSize);
        Assert.Equal(sys.Xcr0, rep.Xcr0);
    }
}
