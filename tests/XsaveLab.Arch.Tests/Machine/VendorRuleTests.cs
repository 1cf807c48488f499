namespace XsaveLab.Arch.Tests.Machine;

/// <summary>The rules this AMD machine cannot check for other vendors (docs/instruction-model.md, "Observed or
/// specified"): XINUSE after XRSTOR (SDM Vol.1 §13.8.3, §13.12), LDTILECFG (SDM Vol.2 LDTILECFG), CET MSR bits of
/// features CPUID does not enumerate (SDM Vol.4 IA32_U_CET), the x87 pointer width (SDM Vol.1 §13.5.1).</summary>
public class VendorRuleTests
{
    private const ulong At = 0x40000;

    private static CpuProfile? Catalog(Func<CpuProfile, bool> pick) => CpuCatalog.All.FirstOrDefault(pick);

    private static bool La57(CpuProfile p) => (p.Leaf(7).Ecx >> 16 & 1) != 0;

    /// <summary>SDM Vol.1 §13.8.3: RFBM[i] = XSTATE_BV[i] = 1 tracks component i as not init, whatever it holds.</summary>
    [Fact]
    public void Intel_xrstor_marks_a_requested_component_present_in_the_image_in_use()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        Assert.Equal(XinUseTracking.SetOnLoad, cpu.XinUseTracking);
        var image = new byte[16384];
        Assert.False(cpu.Xsave(image, At, 0x7).IsFault);
        new XsaveArea(image).XstateBv = XFeatureMasks.Ymm;
        Assert.False(cpu.Xrstor(image, At, 0x7).IsFault);
        Assert.Equal(XFeatureMasks.Ymm, cpu.XinUse & XFeatureMasks.Ymm);
    }

    /// <summary>SDM Vol.1 §13.8.3: RFBM[i] = 0 leaves XINUSE[i] unchanged; an XRSTOR of SSE alone does not touch the
    /// AVX bit on an Intel profile, while this machine's AMD processor re-derives it from the (zero) contents.</summary>
    [SkippableTheory]
    [InlineData(CpuVendor.Intel, XFeatureMasks.Ymm)]
    [InlineData(CpuVendor.Amd, 0UL)]
    public void Xrstor_of_sse_alone_leaves_the_avx_bit_on_intel_and_rederives_it_on_amd(CpuVendor vendor, ulong avxAfter)
    {
        var p = Catalog(c => c.Vendor == vendor && c.HasXsave && (c.SupportedXcr0 & XFeatureMasks.Ymm) != 0);
        Skip.If(p is null, $"no {vendor} catalog CPU with AVX");
        var cpu = TestCpus.Booted(p!);
        var image = new byte[16384];
        Assert.False(cpu.Xsave(image, At, ~0UL).IsFault);
        Assert.False(cpu.Write((int)XFeature.Ymm, new byte[256]).IsFault);
        Assert.False(cpu.Xrstor(image, At, XFeatureMasks.Sse).IsFault);
        Assert.Equal(avxAfter, cpu.XinUse & XFeatureMasks.Ymm);
    }

    /// <summary>LDTILECFG zeroes every tile (SDM pseudo-code <c>zero_all_tile_data()</c>); palette 0 is the initial
    /// configuration of both components, so neither is in use afterwards.</summary>
    [Fact]
    public void Ldtilecfg_zeroes_tile_data_and_palette_0_is_the_initial_state()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        var data = new byte[cpu.Read((int)XFeature.XtileData).Length];
        data.AsSpan().Fill(0x5A);
        Assert.False(cpu.Write((int)XFeature.XtileData, data).IsFault);
        var cfg = new byte[64];
        cfg[0] = 1;
        cfg[16] = 64;
        cfg[48] = 16;
        Assert.False(cpu.Ldtilecfg(cfg).IsFault);
        Assert.True(cpu.IsInitialConfiguration((int)XFeature.XtileData));
        Assert.Equal(XFeatureMasks.XtileCfg, cpu.XinUse & XFeatureMasks.Xtile);
        Assert.Equal(cfg, cpu.Read((int)XFeature.XtileCfg).ToArray());

        Assert.False(cpu.Write((int)XFeature.XtileData, data).IsFault);
        Assert.False(cpu.Ldtilecfg(new byte[64]).IsFault);
        Assert.Equal(0UL, cpu.XinUse & XFeatureMasks.Xtile);
        Assert.True(cpu.IsInitialConfiguration((int)XFeature.XtileCfg));
        Assert.True(cpu.IsInitialConfiguration((int)XFeature.XtileData));
    }

    [Fact]
    public void Ldtilecfg_refuses_a_bad_configuration_and_faults_under_xfd()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        var bad = new byte[64];
        bad[0] = 2;
        Assert.Equal(FaultKind.GeneralProtection, cpu.Ldtilecfg(bad).Kind);
        Assert.False(cpu.Wrmsr(Msr.IA32_XFD, XFeatureMasks.XtileData).IsFault);
        Assert.Equal(FaultKind.DeviceNotAvailable, cpu.Ldtilecfg(new byte[64]).Kind);
        Assert.Equal(XFeatureMasks.XtileData, cpu.XfdErr);
    }

    /// <summary>SDM Vol.4 IA32_U_CET: the indirect-branch-tracking bits need CPUID.(EAX=07H,ECX=0):EDX[20]; a CPU
    /// with shadow stacks but no IBT (zen4-genoa) refuses them in WRMSR and in the CET_U image XRSTORS loads.</summary>
    [SkippableFact]
    public void Cet_ibt_bits_are_refused_where_cpuid_has_no_ibt()
    {
        var p = Catalog(c => c.Has(CpuFeature.Shstk) && !c.Has(CpuFeature.Ibt) && c.HasXsaves
                             && (c.SupportedXss & XFeatureMasks.CetUser) != 0);
        Skip.If(p is null, "no catalog CPU with shadow stacks and CET_U but without IBT");
        var cpu = TestCpus.Booted(p!);
        Assert.False(cpu.Wrmsr(Msr.IA32_U_CET, XsaveDataRules.CetShstkBits).IsFault, p!.Name);
        var f = cpu.Wrmsr(Msr.IA32_U_CET, 0x4); // ENDBR_EN
        Assert.Equal(FaultKind.GeneralProtection, f.Kind);
        Assert.Equal(XsaveRules.CetNoIbt, f.Rule);

        var image = new byte[16384];
        Assert.False(cpu.Xsaves(image, At, ~0UL).IsFault);
        var a = new XsaveArea(image);
        a.XstateBv |= XFeatureMasks.CetUser;
        BinaryPrimitives.WriteUInt64LittleEndian(a.Component(p, (int)XFeature.CetUser), 0x4);
        f = cpu.Xrstors(image, At, ~0UL);
        Assert.Equal(FaultKind.GeneralProtection, f.Kind);
        Assert.Equal(XsaveRules.CetNoIbt, f.Rule);
    }

    [Fact]
    public void Cet_ibt_bits_load_where_cpuid_has_ibt()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        Assert.False(cpu.Wrmsr(Msr.IA32_U_CET, 0x4).IsFault);
    }

    /// <summary>SDM Vol.1 §13.5.1: FIP and FDP are 64-bit fields in 64-bit mode; with no Intel observation of a
    /// narrower width, an Intel LA57 profile keeps what it loads (bit 59 stays set although bit 56 is clear).</summary>
    [SkippableFact]
    public void X87_pointers_on_an_intel_la57_profile_keep_all_64_bits()
    {
        var p = Catalog(c => c.Vendor == CpuVendor.Intel && c.HasXsave && La57(c));
        Skip.If(p is null, "no Intel catalog CPU with LA57");
        var cpu = TestCpus.Booted(p!);
        Assert.Equal(64, cpu.X87PointerBits);
        var x87 = cpu.Read(0).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(x87.AsSpan(XsaveOffsets.Fip), 0x0800_0000_0000_1234);
        Assert.False(cpu.Write(0, x87).IsFault);
        Assert.Equal(0x0800_0000_0000_1234UL, BinaryPrimitives.ReadUInt64LittleEndian(cpu.Read(0)[XsaveOffsets.Fip..]));
    }

    [SkippableFact]
    public void X87_pointers_on_amd_family_1a_are_sign_extended_from_bit_56()
    {
        var p = Catalog(c => c.Vendor == CpuVendor.Amd && c.Family >= 0x1A && c.HasXsave);
        Skip.If(p is null, "no AMD family 1Ah catalog CPU");
        Assert.Equal(57, new XsaveCpu(p!).X87PointerBits);
    }
}
