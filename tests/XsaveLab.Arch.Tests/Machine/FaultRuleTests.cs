namespace XsaveLab.Arch.Tests.Machine;

/// <summary>One case per fault rule of the XSAVE feature set (SDM Vol.1 ch.13, Vol.2 instruction pages).</summary>
public class FaultRuleTests
{
    private const ulong Aligned = 0x10000;
    private static readonly XsaveCpu Spr = TestCpus.Booted(TestCpus.Spr());

    private static XsaveCpu NewSpr() => TestCpus.Booted(TestCpus.Spr());

    private static byte[] Area(XsaveCpu cpu) => new byte[16384];

    /// <summary>A valid compacted image of everything enabled (XSAVES output).</summary>
    private static byte[] CompactedImage(XsaveCpu cpu)
    {
        var a = Area(cpu);
        Assert.Equal(FaultKind.None, cpu.Xsaves(a, Aligned, ~0UL).Kind);
        return a;
    }

    private static byte[] StandardImage(XsaveCpu cpu)
    {
        var a = Area(cpu);
        Assert.Equal(FaultKind.None, cpu.Xsave(a, Aligned, ~0UL).Kind);
        return a;
    }

    private static void AssertFault(XsaveFault f, FaultKind kind, string rule)
    {
        Assert.Equal(kind, f.Kind);
        Assert.Equal(rule, f.Rule);
    }

    [Fact]
    public void Ud_when_the_cpu_has_no_xsave()
    {
        var cpu = new XsaveCpu(TestCpus.NoXsave()) { OsXsave = true };
        AssertFault(cpu.Xsave(new byte[1024], Aligned, ~0UL), FaultKind.InvalidOpcode, XsaveRules.NoXsave);
        AssertFault(cpu.Xrstor(new byte[1024], Aligned, ~0UL), FaultKind.InvalidOpcode, XsaveRules.NoXsave);
        AssertFault(cpu.Xgetbv(0, out _), FaultKind.InvalidOpcode, XsaveRules.NoXsave);
        AssertFault(cpu.Xsetbv(0, 3), FaultKind.InvalidOpcode, XsaveRules.NoXsave);
    }

    [Fact]
    public void Ud_when_cr4_osxsave_is_clear()
    {
        var cpu = NewSpr();
        cpu.OsXsave = false;
        AssertFault(cpu.Xsave(Area(cpu), Aligned, ~0UL), FaultKind.InvalidOpcode, XsaveRules.OsXsaveClear);
        AssertFault(cpu.Xrstor(Area(cpu), Aligned, ~0UL), FaultKind.InvalidOpcode, XsaveRules.OsXsaveClear);
        AssertFault(cpu.Xgetbv(0, out _), FaultKind.InvalidOpcode, XsaveRules.OsXsaveClear);
        AssertFault(cpu.Xsetbv(0, 3), FaultKind.InvalidOpcode, XsaveRules.OsXsaveClear);
    }

    [Fact]
    public void Ud_for_xsaveopt_without_cpuid_bit()
    {
        var cpu = TestCpus.Booted(TestCpus.Synthetic("no-opt", 0x7, 0, 0));
        AssertFault(cpu.Xsaveopt(Area(cpu), Aligned, ~0UL), FaultKind.InvalidOpcode, XsaveRules.NoXsaveopt);
    }

    [Fact]
    public void Ud_for_xsavec_without_cpuid_bit()
    {
        var cpu = TestCpus.Booted(TestCpus.Haswell());
        AssertFault(cpu.Xsavec(Area(cpu), Aligned, ~0UL), FaultKind.InvalidOpcode, XsaveRules.NoXsavec);
    }

    [Fact]
    public void Ud_for_xsaves_and_xrstors_without_cpuid_bit()
    {
        var cpu = TestCpus.Booted(TestCpus.Haswell());
        AssertFault(cpu.Xsaves(Area(cpu), Aligned, ~0UL), FaultKind.InvalidOpcode, XsaveRules.NoXsaves);
        AssertFault(cpu.Xrstors(Area(cpu), Aligned, ~0UL), FaultKind.InvalidOpcode, XsaveRules.NoXsaves);
    }

    [Fact]
    public void Nm_when_cr0_ts_is_set()
    {
        var cpu = NewSpr();
        var image = StandardImage(cpu);
        cpu.Cr0Ts = true;
        AssertFault(cpu.Xsave(Area(cpu), Aligned, ~0UL), FaultKind.DeviceNotAvailable, XsaveRules.TaskSwitched);
        AssertFault(cpu.Xrstor(image, Aligned, ~0UL), FaultKind.DeviceNotAvailable, XsaveRules.TaskSwitched);
        Assert.False(cpu.Xgetbv(0, out _).IsFault);
    }

    [Fact]
    public void Gp_when_the_area_is_not_64_byte_aligned()
    {
        var cpu = NewSpr();
        AssertFault(cpu.Xsave(Area(cpu), Aligned + 32, ~0UL), FaultKind.GeneralProtection, XsaveRules.Misaligned);
        AssertFault(cpu.Xrstor(StandardImage(cpu), Aligned + 8, ~0UL), FaultKind.GeneralProtection, XsaveRules.Misaligned);
    }

    [Fact]
    public void Gp_for_xsaves_xrstors_xsetbv_rdmsr_wrmsr_above_cpl0()
    {
        var cpu = NewSpr();
        var image = CompactedImage(cpu);
        cpu.Cpl = 3;
        AssertFault(cpu.Xsaves(Area(cpu), Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.CplNotZero);
        AssertFault(cpu.Xrstors(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.CplNotZero);
        AssertFault(cpu.Xsetbv(0, 3), FaultKind.GeneralProtection, XsaveRules.CplNotZero);
        AssertFault(cpu.Wrmsr(Msr.IA32_XSS, 0), FaultKind.GeneralProtection, XsaveRules.CplNotZero);
        AssertFault(cpu.Rdmsr(Msr.IA32_XSS, out _), FaultKind.GeneralProtection, XsaveRules.CplNotZero);
        Assert.False(cpu.Xgetbv(0, out _).IsFault); // XGETBV runs at any CPL
        Assert.False(cpu.Xsave(Area(cpu), Aligned, ~0UL).IsFault);
    }

    [Fact]
    public void Gp_when_standard_xstate_bv_has_bits_outside_xcr0()
    {
        var cpu = NewSpr();
        var image = StandardImage(cpu);
        Assert.Equal(FaultKind.None, cpu.Xsetbv(0, 0x7).Kind);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(512), 0x27);
        AssertFault(cpu.Xrstor(image, Aligned, 0x7), FaultKind.GeneralProtection, XsaveRules.XstateBvNotInXcr0);
    }

    [Theory]
    [InlineData(520)]
    [InlineData(528)]
    [InlineData(535)]
    public void Gp_when_standard_header_bytes_8_to_23_are_not_zero(int at)
    {
        var cpu = NewSpr();
        var image = StandardImage(cpu);
        image[at] = 1;
        AssertFault(cpu.Xrstor(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.StandardHeaderReserved);
    }

    [Fact]
    public void Standard_form_ignores_header_bytes_24_to_63()
    {
        var cpu = NewSpr();
        var image = StandardImage(cpu);
        image[536] = 0xFF;
        image[575] = 0xFF;
        Assert.False(cpu.Xrstor(image, Aligned, ~0UL).IsFault);
    }

    [Fact]
    public void Gp_for_compacted_xrstor_without_xsavec()
    {
        var cpu = TestCpus.Booted(TestCpus.Haswell());
        var image = Area(cpu);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(520), XFeatureMasks.CompactedFormat | 0x3);
        AssertFault(cpu.Xrstor(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.CompactedNeedsXsavec);
    }

    [Fact]
    public void Gp_when_xcomp_bv_names_components_outside_xcr0()
    {
        var cpu = NewSpr();
        var image = CompactedImage(cpu); // XCOMP_BV includes XSS components: XRSTOR may not use it
        AssertFault(cpu.Xrstor(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.XcompBvNotEnabled);
    }

    [Fact]
    public void Gp_when_xrstors_xcomp_bv_names_components_outside_xcr0_or_xss()
    {
        var cpu = NewSpr();
        var image = CompactedImage(cpu);
        Assert.False(cpu.Wrmsr(Msr.IA32_XSS, 0).IsFault);
        AssertFault(cpu.Xrstors(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.XcompBvNotEnabled);
    }

    [Fact]
    public void Gp_when_xstate_bv_is_not_within_xcomp_bv()
    {
        var cpu = NewSpr();
        var image = Area(cpu);
        Assert.False(cpu.Xsavec(image, Aligned, 0x3).IsFault);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(512), 0x7);
        AssertFault(cpu.Xrstor(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.XstateBvNotInXcompBv);
    }

    [Fact]
    public void Gp_when_compacted_xstate_bv_sets_bit_63()
    {
        var cpu = NewSpr();
        var image = Area(cpu);
        Assert.False(cpu.Xsavec(image, Aligned, 0x3).IsFault);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(512), XFeatureMasks.CompactedFormat | 0x3);
        AssertFault(cpu.Xrstor(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.XstateBvNotInXcompBv);
    }

    [Theory]
    [InlineData(528)]
    [InlineData(560)]
    [InlineData(575)]
    public void Gp_when_compacted_header_bytes_16_to_63_are_not_zero(int at)
    {
        var cpu = NewSpr();
        var image = CompactedImage(cpu);
        image[at] = 0x80;
        AssertFault(cpu.Xrstors(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.CompactedHeaderReserved);
    }

    [Fact]
    public void Gp_for_xrstors_of_a_standard_image()
    {
        var cpu = NewSpr();
        AssertFault(cpu.Xrstors(StandardImage(cpu), Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.XrstorsNeedsCompacted);
    }

    [Fact]
    public void Gp_when_restored_mxcsr_has_bits_outside_mxcsr_mask()
    {
        var cpu = NewSpr();
        var image = StandardImage(cpu);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 0x1F80 | ~cpu.MxcsrMask);
        AssertFault(cpu.Xrstor(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.MxcsrReserved);
        // Standard form: MXCSR is not read when RFBM has neither SSE nor AVX.
        Assert.False(cpu.Xrstor(image, Aligned, 0x1).IsFault);
    }

    [Fact]
    public void Gp_for_xgetbv_of_an_unknown_xcr()
    {
        AssertFault(Spr.Xgetbv(2, out _), FaultKind.GeneralProtection, XsaveRules.XcrIndex);
    }

    [Fact]
    public void Gp_for_xgetbv1_without_cpuid_bit()
    {
        var cpu = TestCpus.Booted(TestCpus.Haswell());
        AssertFault(cpu.Xgetbv(1, out _), FaultKind.GeneralProtection, XsaveRules.NoXgetbv1);
    }

    [Theory]
    [InlineData(1u, 0x3UL, XsaveRules.XcrIndex)]
    [InlineData(0u, 0x2UL, XsaveRules.Xcr0Bit0Clear)]
    [InlineData(0u, 0x1_0000_0003UL, XsaveRules.Xcr0Unsupported)]
    [InlineData(0u, 0x903UL, XsaveRules.Xcr0Unsupported)] // CET_U is an IA32_XSS bit
    [InlineData(0u, 0x5UL, XsaveRules.Xcr0AvxWithoutSse)]
    [InlineData(0u, 0x67UL, XsaveRules.Xcr0Avx512)]
    [InlineData(0u, 0xE3UL, XsaveRules.Xcr0Avx512)]
    [InlineData(0u, 0x20007UL, XsaveRules.Xcr0AmxPair)]
    [InlineData(0u, 0x40007UL, XsaveRules.Xcr0AmxPair)]
    public void Gp_for_xsetbv_rule_violations(uint ecx, ulong value, string rule)
    {
        var cpu = NewSpr();
        AssertFault(cpu.Xsetbv(ecx, value), FaultKind.GeneralProtection, rule);
        Assert.Equal(0x602E7UL, cpu.Xcr0);
    }

    [Fact]
    public void Gp_for_xsetbv_with_half_of_mpx()
    {
        var cpu = TestCpus.Booted(TestCpus.Mpx());
        AssertFault(cpu.Xsetbv(0, 0xB), FaultKind.GeneralProtection, XsaveRules.Xcr0MpxPair);
        Assert.False(cpu.Xsetbv(0, 0x1B).IsFault);
    }

    [Fact]
    public void Gp_for_wrmsr_xss_with_unsupported_bits()
    {
        var cpu = NewSpr();
        AssertFault(cpu.Wrmsr(Msr.IA32_XSS, 0x200), FaultKind.GeneralProtection, XsaveRules.XssReserved);
    }

    [Fact]
    public void Gp_for_xss_and_xfd_msrs_the_cpu_lacks()
    {
        var cpu = TestCpus.Booted(TestCpus.Haswell());
        AssertFault(cpu.Wrmsr(Msr.IA32_XSS, 0), FaultKind.GeneralProtection, XsaveRules.UnknownMsr);
        AssertFault(cpu.Rdmsr(Msr.IA32_XFD, out _), FaultKind.GeneralProtection, XsaveRules.UnknownMsr);
    }

    [Fact]
    public void Gp_for_wrmsr_xfd_bits_of_components_without_xfd_support()
    {
        var cpu = NewSpr();
        AssertFault(cpu.Wrmsr(Msr.IA32_XFD, XFeatureMasks.XtileCfg), FaultKind.GeneralProtection, XsaveRules.XfdReserved);
        AssertFault(cpu.Wrmsr(Msr.IA32_XFD_ERR, XFeatureMasks.Ymm), FaultKind.GeneralProtection, XsaveRules.XfdReserved);
        Assert.False(cpu.Wrmsr(Msr.IA32_XFD, XFeatureMasks.XtileData).IsFault);
    }

    [Theory]
    [InlineData(Msr.IA32_U_CET, 0x40UL, XsaveRules.CetReserved)]
    [InlineData(Msr.IA32_U_CET, 0x200UL, XsaveRules.CetReserved)]
    [InlineData(Msr.IA32_S_CET, 0xC00UL, XsaveRules.CetSuppressAndTracker)]
    [InlineData(Msr.IA32_U_CET, 0x8000_0000_0000_0000UL, XsaveRules.NonCanonical)]
    [InlineData(Msr.IA32_PL3_SSP, 0x0000_8000_0000_0000UL, XsaveRules.NonCanonical)]
    [InlineData(Msr.IA32_PL0_SSP, 0x7FFF_FFFF_F002UL, XsaveRules.SspMisaligned)]
    [InlineData(Msr.IA32_PL2_SSP, 0x1234_5678_0000_0000UL, XsaveRules.NonCanonical)]
    public void Gp_for_invalid_cet_msr_values(uint msr, ulong value, string rule)
    {
        AssertFault(NewSpr().Wrmsr(msr, value), FaultKind.GeneralProtection, rule);
    }

    [Fact]
    public void Gp_when_xrstors_would_load_invalid_cet_state()
    {
        var cpu = NewSpr();
        Assert.False(cpu.Wrmsr(Msr.IA32_PL3_SSP, 0x7FFF_FFFF_F000).IsFault);
        var image = CompactedImage(cpu);
        var a = new XsaveArea(image);
        BinaryPrimitives.WriteUInt64LittleEndian(a.Component(cpu.Profile, (int)XFeature.CetUser)[8..], 0x7FFF_FFFF_F002);
        AssertFault(cpu.Xrstors(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.SspMisaligned);
        BinaryPrimitives.WriteUInt64LittleEndian(a.Component(cpu.Profile, (int)XFeature.CetUser)[8..], 0x7FFF_FFFF_F000);
        BinaryPrimitives.WriteUInt64LittleEndian(a.Component(cpu.Profile, (int)XFeature.CetUser), 0x100);
        AssertFault(cpu.Xrstors(image, Aligned, ~0UL), FaultKind.GeneralProtection, XsaveRules.CetReserved);
    }

    [Fact]
    public void Nm_when_xrstor_would_load_an_xfd_armed_component()
    {
        var cpu = NewSpr();
        Assert.False(cpu.Write((int)XFeature.XtileData, Enumerable.Repeat((byte)0xAB, 8192).ToArray()).IsFault);
        var image = CompactedImage(cpu);
        var before = cpu.Read(0).ToArray();
        Assert.False(cpu.Wrmsr(Msr.IA32_XFD, XFeatureMasks.XtileData).IsFault);
        AssertFault(cpu.Xrstors(image, Aligned, ~0UL), FaultKind.DeviceNotAvailable, XsaveRules.XfdArmed);
        Assert.Equal(XFeatureMasks.XtileData, cpu.XfdErr);
        Assert.Equal(before, cpu.Read(0).ToArray()); // nothing loaded
    }

    [Fact]
    public void Xfd_armed_component_marked_init_in_xstate_bv_is_just_initialized()
    {
        var cpu = NewSpr();
        Assert.False(cpu.Write((int)XFeature.XtileData, Enumerable.Repeat((byte)0xAB, 8192).ToArray()).IsFault);
        var image = CompactedImage(cpu);
        Assert.False(cpu.Wrmsr(Msr.IA32_XFD, XFeatureMasks.XtileData).IsFault);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(512), BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(512)) & ~XFeatureMasks.XtileData);
        Assert.False(cpu.Xrstors(image, Aligned, ~0UL).IsFault);
        Assert.True(cpu.IsInitialConfiguration((int)XFeature.XtileData));
        Assert.Equal(0UL, cpu.XfdErr);
    }

    [Fact]
    public void Nm_when_an_instruction_writes_an_xfd_armed_component()
    {
        var cpu = NewSpr();
        Assert.False(cpu.Wrmsr(Msr.IA32_XFD, XFeatureMasks.XtileData).IsFault);
        AssertFault(cpu.Write((int)XFeature.XtileData, new byte[8192]), FaultKind.DeviceNotAvailable, XsaveRules.XfdArmed);
        Assert.Equal(XFeatureMasks.XtileData, cpu.XfdErr);
    }

    [Fact]
    public void Ud_when_an_instruction_writes_a_component_xcr0_disables()
    {
        var cpu = NewSpr();
        Assert.False(cpu.Xsetbv(0, 0x3).IsFault);
        AssertFault(cpu.Write((int)XFeature.Ymm, new byte[256]), FaultKind.InvalidOpcode, XsaveRules.ComponentDisabled);
    }
}
