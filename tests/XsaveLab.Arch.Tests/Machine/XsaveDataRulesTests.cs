namespace XsaveLab.Arch.Tests.Machine;

/// <summary>The one definition of "loadable component data": each rule on its own, and the instruction model
/// faulting exactly when the rule says so.</summary>
public class XsaveDataRulesTests
{
    [Fact]
    public void Mxcsr_mask_zero_in_an_fxsave_image_means_the_pre_daz_default()
    {
        Assert.Equal(XsaveDataRules.DefaultMxcsrMask, XsaveDataRules.EffectiveMxcsrMask(0));
        Assert.Equal(0x2FFFFu, XsaveDataRules.EffectiveMxcsrMask(0x2FFFF));
        // DAZ (bit 6) is exactly the bit the default mask lacks.
        Assert.True(XsaveDataRules.MxcsrHasReservedBits(1u << 6, XsaveDataRules.DefaultMxcsrMask));
        Assert.False(XsaveDataRules.MxcsrHasReservedBits(1u << 6, 0xFFFF));
        Assert.Equal(XsaveRules.MxcsrReserved, XsaveDataRules.MxcsrViolation(0x10000, 0xFFFF));
    }

    [Theory]
    [InlineData(48, 0x0000_7FFF_FFFF_FFFFUL, true)]
    [InlineData(48, 0x0000_8000_0000_0000UL, false)]
    [InlineData(48, 0xFFFF_8000_0000_0000UL, true)]
    [InlineData(57, 0x0000_8000_0000_0000UL, true)]
    [InlineData(57, 0x0100_0000_0000_0000UL, false)]
    [InlineData(57, 0xFF00_0000_0000_0000UL, true)]
    public void Canonical_means_the_bits_above_the_address_width_copy_its_top_bit(int bits, ulong value, bool canonical) =>
        Assert.Equal(canonical, XsaveDataRules.IsCanonical(value, bits));

    [Fact]
    public void Cet_control_rules_reserved_bits_suppress_with_tracker_and_bitmap_base()
    {
        for (int bit = 6; bit <= 9; bit++)
            Assert.Equal(XsaveRules.CetReserved, XsaveDataRules.CetControlViolation(1UL << bit, 48));
        Assert.Equal(XsaveRules.CetSuppressAndTracker, XsaveDataRules.CetControlViolation(XsaveDataRules.CetSuppress | XsaveDataRules.CetWaitForEndbranch, 48));
        Assert.Null(XsaveDataRules.CetControlViolation(XsaveDataRules.CetSuppress, 48));
        Assert.Null(XsaveDataRules.CetControlViolation(0x0000_7FFF_FFFF_F000UL | 0x3F, 48));
        Assert.Equal(XsaveRules.NonCanonical, XsaveDataRules.CetControlViolation(0x0000_8000_0000_0000UL, 48));
        Assert.Null(XsaveDataRules.CetControlBitsViolation(0x0000_8000_0000_0000UL));
    }

    [Fact]
    public void Ssp_rules_canonical_and_aligned_except_the_interrupt_ssp_table()
    {
        Assert.Null(XsaveDataRules.SspViolation(0x7FFD_F000_0FF8, 48));
        Assert.Equal(XsaveRules.SspMisaligned, XsaveDataRules.SspViolation(0x7FFD_F000_0FFA, 48));
        Assert.Null(XsaveDataRules.SspViolation(0x7FFD_F000_0FFA, 48, requireAlignment: false));
        Assert.Equal(XsaveRules.NonCanonical, XsaveDataRules.SspViolation(0x0080_0000_0000_0000, 48));
    }

    [Fact]
    public void Cet_component_images_are_checked_register_by_register_at_the_table_offsets()
    {
        var cetU = new byte[XFeatureTable.Get(XFeature.CetUser).ArchitecturalSize!.Value];
        int pl3 = XFeatureTable.Get(XFeature.CetUser).Registers.Single(r => r.Name == "PL3_SSP").Offset;
        Assert.Null(XsaveDataRules.ComponentViolation((int)XFeature.CetUser, cetU, 48));
        BinaryPrimitives.WriteUInt64LittleEndian(cetU.AsSpan(pl3), 2);
        Assert.Equal(XsaveRules.SspMisaligned, XsaveDataRules.ComponentViolation((int)XFeature.CetUser, cetU, 48));

        var cetS = new byte[XFeatureTable.Get(XFeature.CetKernel).ArchitecturalSize!.Value];
        foreach (var r in XFeatureTable.Get(XFeature.CetKernel).Registers)
        {
            Array.Clear(cetS);
            BinaryPrimitives.WriteUInt64LittleEndian(cetS.AsSpan(r.Offset), 0x8000_0000_0000UL);
            Assert.Equal(XsaveRules.NonCanonical, XsaveDataRules.ComponentViolation((int)XFeature.CetKernel, cetS, 48));
        }
    }

    [Fact]
    public void Pasid_and_tile_configuration_rules()
    {
        Assert.Null(XsaveDataRules.PasidViolation(0x8000_0001));
        Assert.Equal(XsaveRules.PasidReserved, XsaveDataRules.PasidViolation(1UL << 20));
        var cfg = new byte[64];
        Assert.Null(XsaveDataRules.TileConfigViolation(cfg));
        cfg[0] = 1;
        Assert.Null(XsaveDataRules.TileConfigViolation(cfg)); // palette 1, no tile configured
        BinaryPrimitives.WriteUInt16LittleEndian(cfg.AsSpan(16), 64);
        cfg[48] = 16;
        Assert.Null(XsaveDataRules.TileConfigViolation(cfg));
        cfg[48] = 17;
        Assert.Equal(XsaveRules.TileConfigShape, XsaveDataRules.TileConfigViolation(cfg));
        cfg[48] = 0;
        Assert.Equal(XsaveRules.TileConfigShape, XsaveDataRules.TileConfigViolation(cfg));
        cfg[48] = 1;
        cfg[2] = 1;
        Assert.Equal(XsaveRules.TileConfigReserved, XsaveDataRules.TileConfigViolation(cfg));
        cfg[0] = 2;
        Assert.Equal(XsaveRules.TileConfigPalette, XsaveDataRules.TileConfigViolation(cfg));
    }

    [Fact]
    public void Xrstor_header_rules_in_the_order_the_instruction_checks_them()
    {
        var h = new byte[XsaveOffsets.HeaderSize];
        const ulong xcr0 = 0x7;
        Assert.Null(XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, false));
        Assert.Equal(XsaveRules.XrstorsNeedsCompacted, XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, true));
        BinaryPrimitives.WriteUInt64LittleEndian(h, 0x8);
        Assert.Equal(XsaveRules.XstateBvNotInXcr0, XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, false));
        BinaryPrimitives.WriteUInt64LittleEndian(h, 0x3);
        h[XsaveOffsets.HeaderReserved - XsaveOffsets.Header + 7] = 1; // last byte the standard form checks
        Assert.Equal(XsaveRules.StandardHeaderReserved, XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, false));
        Array.Clear(h);
        h[XsaveOffsets.HeaderSize - 1] = 1; // beyond what the standard form checks
        Assert.Null(XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, false));
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(XsaveOffsets.XcompBv - XsaveOffsets.Header), XFeatureMasks.CompactedFormat | 0x3);
        Assert.Equal(XsaveRules.CompactedNeedsXsavec, XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, false, false));
        Assert.Equal(XsaveRules.CompactedHeaderReserved, XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, false));
        h[XsaveOffsets.HeaderSize - 1] = 0;
        Assert.Null(XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, true));
        BinaryPrimitives.WriteUInt64LittleEndian(h, 0x4);
        Assert.Equal(XsaveRules.XstateBvNotInXcompBv, XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, false));
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(XsaveOffsets.XcompBv - XsaveOffsets.Header), XFeatureMasks.CompactedFormat | 0x1000);
        Assert.Equal(XsaveRules.XcompBvNotEnabled, XsaveDataRules.XrstorHeaderViolation(h, xcr0, xcr0, true, true));
    }

    [Fact]
    public void Xrstors_faults_on_a_cet_image_exactly_when_the_component_rule_says_so()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        Assert.True((cpu.Enumerated & XFeatureMasks.CetUser) != 0, "the SPR-like profile enumerates CET_U");
        Assert.False(cpu.Wrmsr(Msr.IA32_XSS, cpu.Profile.SupportedXss & XFeatureMasks.CetUser).IsFault);
        var rng = new Random(11);
        var area = new byte[16384];
        Assert.False(cpu.Xsaves(area, 0x4000, ~0UL).IsFault);
        var view = new XsaveArea(area);
        int bits = (cpu.Profile.Leaf(7).Ecx >> 16 & 1) != 0 ? 57 : 48;
        for (int n = 0; n < 300; n++)
        {
            var slot = view.Component(cpu.Profile, (int)XFeature.CetUser);
            foreach (int at in new[] { 0, 8 })
            {
                ulong v = (ulong)rng.NextInt64() & (rng.Next(2) == 0 ? 0x0000_7FFF_FFFF_FFFFUL : ~0UL);
                if (rng.Next(2) == 0) v &= ~0x3FFUL;
                BinaryPrimitives.WriteUInt64LittleEndian(slot[at..], v);
            }
            view.XstateBv |= XFeatureMasks.CetUser;
            string? rule = XsaveDataRules.ComponentViolation((int)XFeature.CetUser, slot, bits);
            var f = cpu.Xrstors(area, 0x4000, ~0UL);
            Assert.Equal(rule, f.IsFault ? f.Rule : null);
        }
    }
}
