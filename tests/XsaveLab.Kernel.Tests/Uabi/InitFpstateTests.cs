namespace XsaveLab.Kernel.Tests.Uabi;

/// <summary>The UABI configuration takes init_fpstate and the default fpstate from the boot of its own kernel
/// variant: a fresh task seen through the UABI is the task model's fresh task, on every variant.</summary>
public class InitFpstateTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => new()
    {
        { "spr", "case3" }, { "spr", "6.15" }, { "spr", "6.17" }, { "zen5-turin", "case3" }, { "zen5-turin", "6.15" }, { "tgl", "deferred" }, { "haswell", "6.16" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Init_fpstate_and_the_default_fpstate_follow_the_variants_host_default_mask(string cpu, string variant)
    {
        var sys = FpuSystem.Boot(CpuCatalog.Get(cpu), KernelVariants.Get(variant));
        var cfg = UabiConfig.FromSystem(sys, sys.HardwareMxcsrMask);
        // fpu__init_system_xstate(): default features = max features ∩ the variant's host default mask.
        ulong defaults = sys.KernelCfg.MaxFeatures & sys.Variant.HostDefaultMask;
        output.WriteLine($"{cpu} {variant}: max 0x{sys.KernelCfg.MaxFeatures:x} defaults 0x{defaults:x}");

        var fps = cfg.NewDefaultFpstate();
        Assert.Equal(defaults, fps.Xfeatures);
        Assert.Equal(sys.CalculateSize(defaults, sys.Compacted), fps.Size);
        Assert.Equal(sys.UserCfg.MaxFeatures & sys.Variant.HostDefaultMask, fps.UserXfeatures);
        ulong xcomp = BinaryPrimitives.ReadUInt64LittleEndian(cfg.InitFpstate.AsSpan(520));
        Assert.Equal(sys.Compacted ? defaults | XFeatureMasks.CompactedFormat : 0, xcomp);
        Assert.Equal(xcomp, fps.XcompBv);

        // Byte for byte the fpstate the task model gives a new process.
        var k = new LinuxKernel(sys, 1);
        var t = k.SpawnProcess("fresh");
        Assert.Equal(t.Fpu.FpState.Shape, fps.Shape);
        Assert.Equal(t.Fpu.FpState.Regs.ToArray(), fps.Regs.ToArray());
        Assert.Equal(KernelTaskUabi.Config(k).InitFpstate, cfg.InitFpstate);
    }

    // Where CET_KERNEL is an ordinary supervisor feature (case3) the host defaults hold it, so the default
    // buffer and init_fpstate's XCOMP_BV include it; where it is guest-only (6.17) they do not.
    [Theory]
    [InlineData("case3")]
    [InlineData("6.17")]
    public void Cet_kernel_is_in_the_default_fpstate_exactly_when_the_variant_keeps_it_in_host_defaults(string variant)
    {
        var sys = FpuSystem.Boot(CpuCatalog.Get("spr"), KernelVariants.Get(variant));
        Assert.True((sys.KernelCfg.MaxFeatures & XFeatureMasks.CetKernel) != 0, "spr enumerates CET_S and the variant enables it");
        bool inHostDefaults = (sys.Variant.HostDefaultMask & XFeatureMasks.CetKernel) != 0;
        var fps = UabiConfig.FromSystem(sys).NewDefaultFpstate();
        Assert.Equal(inHostDefaults, (fps.Xfeatures & XFeatureMasks.CetKernel) != 0);
        Assert.Equal(inHostDefaults, (fps.XcompBv & XFeatureMasks.CetKernel) != 0);
    }
}
