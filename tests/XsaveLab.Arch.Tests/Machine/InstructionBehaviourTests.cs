namespace XsaveLab.Arch.Tests.Machine;

/// <summary>What each instruction writes and loads (SDM Vol.1 §13.7–13.12), one rule per case.</summary>
public class InstructionBehaviourTests
{
    private const ulong At = 0x40000;

    private static byte[] Filled(byte fill = 0xCC)
    {
        var a = new byte[16384];
        a.AsSpan().Fill(fill);
        return a;
    }

    private static XsaveCpu RandomSpr(int seed, ulong init = 0)
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        TestCpus.Randomize(cpu, new Random(seed), init);
        return cpu;
    }

    [Fact]
    public void Reset_state_is_xcr0_1_and_initial_registers()
    {
        var cpu = new XsaveCpu(TestCpus.Spr()) { OsXsave = true };
        Assert.Equal(1UL, cpu.Xcr0);
        Assert.Equal(0UL, cpu.XinUse);
        Assert.Equal(0x1F80u, cpu.Mxcsr);
        Assert.Equal(0x037F, BinaryPrimitives.ReadUInt16LittleEndian(cpu.Read(0)));
        Assert.True(cpu.IsInitialConfiguration(0));
        Assert.True(cpu.IsInitialConfiguration(1));
    }

    [Fact]
    public void Xsave_writes_only_rfbm_bits_of_xstate_bv_and_never_xcomp_bv_or_reserved_header()
    {
        var cpu = RandomSpr(1, init: XFeatureMasks.Ymm);
        var a = Filled();
        Assert.False(cpu.Xsave(a, At, 0x7).IsFault);
        var area = new XsaveArea(a);
        Assert.Equal((0xCCCCCCCCCCCCCCCCUL & ~0x7UL) | 0x3UL, area.XstateBv);
        Assert.Equal(0xCCCCCCCCCCCCCCCCUL, area.XcompBv);
        Assert.True(area.HeaderReserved.IndexOfAnyExcept((byte)0xCC) < 0);
        Assert.True(a.AsSpan(416, 96).IndexOfAnyExcept((byte)0xCC) < 0); // legacy 416..511 untouched
        // XSAVE has no init optimization: the init AVX state is written as zeros.
        Assert.True(a.AsSpan(576, 256).IndexOfAnyExcept((byte)0) < 0);
        // Components outside RFBM are untouched.
        Assert.True(area.Component(cpu.Profile, 5).IndexOfAnyExcept((byte)0xCC) < 0);
    }

    [Fact]
    public void Xsave_writes_mxcsr_and_mask_with_avx_alone()
    {
        var cpu = RandomSpr(2);
        var a = Filled();
        Assert.False(cpu.Xsave(a, At, 0x5).IsFault);
        var area = new XsaveArea(a);
        Assert.Equal(cpu.Mxcsr, area.Mxcsr);
        Assert.Equal(cpu.MxcsrMask, area.MxcsrMask);
        Assert.True(a.AsSpan(160, 256).IndexOfAnyExcept((byte)0xCC) < 0); // XMM not requested
    }

    [Fact]
    public void Xsave_without_sse_or_avx_leaves_mxcsr_untouched()
    {
        var cpu = RandomSpr(3);
        var a = Filled();
        Assert.False(cpu.Xsave(a, At, 0x21).IsFault);
        Assert.True(a.AsSpan(24, 8).IndexOfAnyExcept((byte)0xCC) < 0);
    }

    [Fact]
    public void Xsavec_writes_xstate_bv_and_xcomp_bv_but_not_bytes_528_to_575()
    {
        var cpu = RandomSpr(4, init: XFeatureMasks.Opmask);
        var a = Filled();
        Assert.False(cpu.Xsavec(a, At, ~0UL).IsFault);
        var area = new XsaveArea(a);
        Assert.Equal(cpu.Xcr0 | XFeatureMasks.CompactedFormat, area.XcompBv);
        Assert.Equal(cpu.Xcr0 & ~XFeatureMasks.Opmask, area.XstateBv);
        Assert.True(area.HeaderReserved.IndexOfAnyExcept((byte)0xCC) < 0);
        // Init optimization: the opmask slot is reserved but not written.
        Assert.True(area.Component(cpu.Profile, 5).IndexOfAnyExcept((byte)0xCC) < 0);
    }

    [Fact]
    public void Xsavec_with_sse_and_avx_init_leaves_the_legacy_region_untouched()
    {
        var cpu = RandomSpr(5, init: XFeatureMasks.Fp | XFeatureMasks.Sse | XFeatureMasks.Ymm);
        var a = Filled();
        Assert.False(cpu.Xsavec(a, At, ~0UL).IsFault);
        Assert.True(a.AsSpan(0, 512).IndexOfAnyExcept((byte)0xCC) < 0);
        Assert.Equal(0UL, new XsaveArea(a).XstateBv & 0x7);
    }

    [Fact]
    public void Xsavec_saves_sse_when_mxcsr_is_not_1f80_even_if_xmm_are_init()
    {
        var cpu = RandomSpr(6, init: XFeatureMasks.Sse | XFeatureMasks.Ymm);
        cpu.Mxcsr = 0x1FA0;
        var a = Filled();
        Assert.False(cpu.Xsavec(a, At, ~0UL).IsFault);
        var area = new XsaveArea(a);
        Assert.Equal(XFeatureMasks.Sse, area.XstateBv & XFeatureMasks.Sse);
        Assert.Equal(0x1FA0u, area.Mxcsr);
    }

    [Fact]
    public void Xsaveopt_init_optimization_skips_init_components_but_writes_mxcsr()
    {
        var cpu = RandomSpr(7, init: XFeatureMasks.Sse | XFeatureMasks.Ymm | XFeatureMasks.Fp);
        var a = Filled();
        Assert.False(cpu.Xsaveopt(a, At, 0x7).IsFault);
        var area = new XsaveArea(a);
        Assert.Equal(0UL, area.XstateBv & 0x7);
        Assert.Equal(cpu.Mxcsr, area.Mxcsr);
        Assert.True(a.AsSpan(0, 24).IndexOfAnyExcept((byte)0xCC) < 0);
        Assert.True(a.AsSpan(160, 256).IndexOfAnyExcept((byte)0xCC) < 0);
        Assert.True(a.AsSpan(576, 256).IndexOfAnyExcept((byte)0xCC) < 0);
    }

    [Fact]
    public void Xsaveopt_modified_optimization_skips_components_unmodified_since_xrstor_at_the_same_address()
    {
        var cpu = RandomSpr(8);
        var image = new byte[16384];
        Assert.False(cpu.Xsave(image, At, ~0UL).IsFault);
        Assert.False(cpu.Xrstor(image, At, ~0UL).IsFault);
        Assert.Equal(RestoreKind.XrstorStandard, cpu.LastRestore!.Value.Kind);
        var ymm = new byte[256];
        new Random(9).NextBytes(ymm);
        Assert.False(cpu.Write((int)XFeature.Ymm, ymm).IsFault);

        int k = cpu.Profile.Component(5)!.Value.StandardOffset!.Value;
        var same = (byte[])image.Clone();
        same.AsSpan(k, 64).Fill(0xEE); // opmask slot: would be rewritten by a full save
        Assert.False(cpu.Xsaveopt(same, At, ~0UL).IsFault);
        Assert.True(same.AsSpan(k, 64).IndexOfAnyExcept((byte)0xEE) < 0); // unmodified: skipped
        Assert.Equal(ymm, same.AsSpan(576, 256).ToArray()); // modified: written

        var other = (byte[])same.Clone();
        Assert.False(cpu.Xsaveopt(other, At + 64, ~0UL).IsFault); // another address: no tracking match
        Assert.Equal(cpu.Read(5).ToArray(), other.AsSpan(k, 64).ToArray());

        cpu.VmxNonRoot = true; // same address, but now a guest: no match either
        var guest = (byte[])same.Clone();
        Assert.False(cpu.Xsaveopt(guest, At, ~0UL).IsFault);
        Assert.Equal(cpu.Read(5).ToArray(), guest.AsSpan(k, 64).ToArray());
        cpu.VmxNonRoot = false;

        var off = TestCpus.Booted(TestCpus.Spr(), new XsaveCpuOptions { ModifiedOptimization = false });
        Assert.False(off.Xrstor(image, At, ~0UL).IsFault);
        var again = (byte[])image.Clone();
        again.AsSpan(k, 64).Fill(0xEE);
        Assert.False(off.Xsaveopt(again, At, ~0UL).IsFault);
        Assert.Equal(off.Read(5).ToArray(), again.AsSpan(k, 64).ToArray());
    }

    [Fact]
    public void Xsetbv_and_wrmsr_xss_and_xfd_invalidate_the_tracking()
    {
        var cpu = RandomSpr(10);
        var image = new byte[16384];
        Assert.False(cpu.Xsaves(image, At, ~0UL).IsFault);
        Assert.False(cpu.Xrstors(image, At, ~0UL).IsFault);
        Assert.NotNull(cpu.LastRestore);
        Assert.False(cpu.Xsetbv(0, cpu.Xcr0).IsFault);
        Assert.Null(cpu.LastRestore);
        Assert.False(cpu.Xrstors(image, At, ~0UL).IsFault);
        Assert.False(cpu.Wrmsr(Msr.IA32_XSS, cpu.Xss).IsFault);
        Assert.Null(cpu.LastRestore);
        Assert.False(cpu.Xrstors(image, At, ~0UL).IsFault);
        Assert.False(cpu.Wrmsr(Msr.IA32_XFD, 0).IsFault);
        Assert.Null(cpu.LastRestore);
    }

    [Fact]
    public void Xsaves_modified_optimization_needs_xrstors_with_the_same_xcomp_bv()
    {
        var cpu = RandomSpr(11);
        var image = new byte[16384];
        Assert.False(cpu.Xsaves(image, At, ~0UL).IsFault);
        Assert.False(cpu.Xrstors(image, At, ~0UL).IsFault);
        var probe = (byte[])image.Clone();
        probe.AsSpan(576, 256).Fill(0xEE);
        Assert.False(cpu.Xsaves(probe, At, ~0UL).IsFault);
        Assert.True(probe.AsSpan(576, 256).IndexOfAnyExcept((byte)0xEE) < 0);
        // A different RFBM means a different XCOMP_BV: every in-use component is written.
        probe.AsSpan(576, 256).Fill(0xEE);
        Assert.False(cpu.Xsaves(probe, At, 0x7).IsFault);
        Assert.Equal(cpu.Read(2).ToArray(), probe.AsSpan(576, 256).ToArray());
    }

    [Fact]
    public void Standard_xrstor_loads_mxcsr_whatever_xstate_bv_says()
    {
        var cpu = RandomSpr(12);
        var image = new byte[16384];
        Assert.False(cpu.Xsave(image, At, ~0UL).IsFault);
        var area = new XsaveArea(image);
        area.XstateBv = 0;
        area.Mxcsr = 0x1F00;
        Assert.False(cpu.Xrstor(image, At, 0x4).IsFault);
        Assert.Equal(0x1F00u, cpu.Mxcsr);
        Assert.True(cpu.IsInitialConfiguration(2));
    }

    [Fact]
    public void Compacted_xrstor_sets_mxcsr_to_1f80_when_sse_is_initialized()
    {
        var cpu = RandomSpr(13);
        cpu.Mxcsr = 0x1F00;
        var image = new byte[16384];
        Assert.False(cpu.Xsavec(image, At, 0x3).IsFault);
        new XsaveArea(image).XstateBv = 0x1;
        Assert.False(cpu.Xrstor(image, At, ~0UL).IsFault);
        Assert.Equal(0x1F80u, cpu.Mxcsr);
        Assert.Equal(0UL, cpu.XinUse & XFeatureMasks.Sse);
    }

    [Fact]
    public void Xrstor_initializes_components_in_rfbm_missing_from_xstate_bv_and_leaves_others()
    {
        var cpu = RandomSpr(14);
        var ymm = cpu.Read(2).ToArray();
        var image = new byte[16384];
        Assert.False(cpu.Xsave(image, At, 0x3).IsFault);
        new XsaveArea(image).XstateBv = 0x1;
        Assert.False(cpu.Xrstor(image, At, 0x23).IsFault);
        Assert.True(cpu.Read(1).IndexOfAnyExcept((byte)0) < 0); // XMM initialized; the standard form loads MXCSR regardless
        Assert.True(cpu.IsInitialConfiguration(5));
        Assert.Equal(0UL, cpu.XinUse & XFeatureMasks.Opmask);
        Assert.Equal(ymm, cpu.Read(2).ToArray());
    }

    [Theory]
    [InlineData(XinUseTracking.CompareContents, 0UL)]
    [InlineData(XinUseTracking.SetOnLoad, XFeatureMasks.Ymm)]
    public void Xrstor_of_initial_values_marked_present_sets_xinuse_by_policy(XinUseTracking policy, ulong expected)
    {
        var cpu = TestCpus.Booted(TestCpus.Spr(), new XsaveCpuOptions { XinUse = policy });
        var image = new byte[16384];
        Assert.False(cpu.Xsave(image, At, 0x7).IsFault); // everything initial
        new XsaveArea(image).XstateBv = XFeatureMasks.Ymm;   // AVX "present", with zeros
        Assert.False(cpu.Xrstor(image, At, 0x7).IsFault);
        Assert.Equal(expected, cpu.XinUse & XFeatureMasks.Ymm);
    }

    [Fact]
    public void A_write_of_initial_values_marks_the_component_in_use()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        Assert.False(cpu.Write((int)XFeature.Ymm, new byte[256]).IsFault); // e.g. VXORPS ymm0, ymm0, ymm0
        Assert.Equal(XFeatureMasks.Ymm, cpu.XinUse & XFeatureMasks.Ymm);
        cpu.Init((int)XFeature.Ymm); // VZEROUPPER
        Assert.Equal(0UL, cpu.XinUse & XFeatureMasks.Ymm);
    }

    [Theory]
    [InlineData(XFeatureMasks.Sse, 0UL)]
    [InlineData(XFeatureMasks.ZmmHi256, 0UL)]
    [InlineData(XFeatureMasks.Fp, XFeatureMasks.Ymm)]
    [InlineData(XFeatureMasks.Opmask, XFeatureMasks.Ymm)]
    [InlineData(XFeatureMasks.Hi16Zmm, XFeatureMasks.Ymm)]
    public void Xrstor_of_part_of_zmm0_15_rederives_the_other_parts_in_use_bits(ulong restored, ulong avxInUseAfter)
    {
        // What this machine's AMD processor does; Intel profiles follow the SDM (VendorRuleTests).
        var cpu = TestCpus.Booted(TestCpus.Spr(), new XsaveCpuOptions { XinUse = XinUseTracking.CompareContents });
        var image = new byte[16384];
        Assert.False(cpu.Xsave(image, At, ~0UL).IsFault); // all initial
        Assert.False(cpu.Write((int)XFeature.Ymm, new byte[256]).IsFault); // AVX in use, zero upper halves
        Assert.False(cpu.Xrstor(image, At, restored).IsFault);
        Assert.Equal(avxInUseAfter, cpu.XinUse & XFeatureMasks.Ymm);
    }

    [Fact]
    public void Xgetbv1_returns_xcr0_and_xinuse()
    {
        var cpu = RandomSpr(15, init: XFeatureMasks.Ymm | XFeatureMasks.Xtile);
        Assert.False(cpu.Xgetbv(1, out var v).IsFault);
        Assert.Equal(cpu.Xcr0 & cpu.XinUse, v);
        Assert.Equal(0UL, v & (XFeatureMasks.Ymm | XFeatureMasks.Xtile));
        Assert.Equal(XFeatureMasks.Avx512, v & XFeatureMasks.Avx512);
    }

    [Fact]
    public void Pkru_transfers_four_bytes_of_its_slot()
    {
        var cpu = RandomSpr(16);
        var a = Filled();
        Assert.False(cpu.Xsave(a, At, XFeatureMasks.Pkru | 1).IsFault);
        int off = cpu.Profile.Component(9)!.Value.StandardOffset!.Value;
        Assert.Equal(cpu.Read(9)[..4].ToArray(), a.AsSpan(off, 4).ToArray());
        Assert.True(a.AsSpan(off + 4, 4).IndexOfAnyExcept((byte)0xCC) < 0);
    }

    [Fact]
    public void Amd_stores_x87_pointers_only_with_fsw_es()
    {
        var old = TestCpus.Booted(TestCpus.OldAmd());
        Assert.True(old.SavesX87PointersOnlyOnError);
        var x87 = old.Read(0).ToArray();
        new Random(17).NextBytes(x87.AsSpan(6, 18));
        x87[7] &= 7;
        x87[2] = 0; // no exception flags: FSW.ES recomputes to 0
        x87[3] &= 0x7F;
        Assert.False(old.Write(0, x87).IsFault);
        var a = Filled();
        Assert.False(old.Xsave(a, At, 1).IsFault);
        Assert.True(a.AsSpan(6, 18).IndexOfAnyExcept((byte)0) < 0);
        x87[0] = 0x7E; // IM unmasked
        x87[2] = 0x01; // IE pending: ES=1
        Assert.False(old.Write(0, x87).IsFault);
        Assert.False(old.Xsave(a, At, 1).IsFault);
        Assert.Equal(x87.AsSpan(6, 18).ToArray(), a.AsSpan(6, 18).ToArray());
        Assert.Equal(0x80, a[3] & 0x80);

        // Observed on this machine's Zen 5, which reports XSaveErPtr: the rule still applies.
        var withErPtr = TestCpus.Booted(TestCpus.Synthetic("amd-xsaveerptr", 0x7, 0, 0xF, vendor: Arch.Cpuid.CpuVendor.Amd, xsaveErPtr: true));
        Assert.True(withErPtr.SavesX87PointersOnlyOnError);
    }

    [Fact]
    public void Cet_msrs_live_in_the_cet_components()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        Assert.False(cpu.Wrmsr(Msr.IA32_U_CET, 0x1).IsFault);
        Assert.False(cpu.Wrmsr(Msr.IA32_PL3_SSP, 0x7FFF_FFFF_F000).IsFault);
        Assert.False(cpu.Wrmsr(Msr.IA32_PL1_SSP, 0xFFFF_8000_0000_1000).IsFault);
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(cpu.Read(11)));
        Assert.Equal(0x7FFF_FFFF_F000UL, BinaryPrimitives.ReadUInt64LittleEndian(cpu.Read(11)[8..]));
        Assert.Equal(0xFFFF_8000_0000_1000UL, BinaryPrimitives.ReadUInt64LittleEndian(cpu.Read(12)[8..]));
        var image = new byte[16384];
        Assert.False(cpu.Xsaves(image, At, ~0UL).IsFault);
        var fresh = TestCpus.Booted(TestCpus.Spr());
        Assert.False(fresh.Xrstors(image, At, ~0UL).IsFault);
        Assert.False(fresh.Rdmsr(Msr.IA32_PL3_SSP, out var ssp).IsFault);
        Assert.Equal(0x7FFF_FFFF_F000UL, ssp);
    }

    [Fact]
    public void Mpx_hole_in_the_standard_form_is_untouched()
    {
        var cpu = TestCpus.Booted(TestCpus.Mpx());
        TestCpus.Randomize(cpu, new Random(18), 0);
        var a = Filled();
        Assert.False(cpu.Xsave(a, At, ~0UL).IsFault);
        Assert.True(a.AsSpan(832, 128).IndexOfAnyExcept((byte)0xCC) < 0);
    }
}
