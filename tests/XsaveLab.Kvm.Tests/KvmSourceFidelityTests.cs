namespace XsaveLab.Kvm.Tests;

/// <summary>KVM behaviours checked against arch/x86/kvm and arch/x86/kernel/fpu where the model used to differ:
/// <c>kvm_is_valid_u_s_cet()</c>, <c>kvm_cpu_cap_init()</c>, host-initiated IA32_XSS writes in 6.18, and
/// XSTATE_BV under XFD through KVM_SET_XSAVE (<c>handle_xfd_event()</c>, b45f72177594).</summary>
public class KvmSourceFidelityTests
{
    private static KvmVcpu CetVcpu(out KvmSystem sys)
    {
        sys = TestCpus.System(TestCpus.Get("spr"));
        Assert.True(sys.Caps.Shstk && sys.Caps.Ibt, "spr: KVM 6.18 offers SHSTK and IBT");
        return TestCpus.NewVcpu(sys, requestAmx: false);
    }

    [Fact]
    public void Kvm_is_valid_u_s_cet_refuses_a_legacy_bitmap_base_with_bits_13_12()
    {
        var v = CetVcpu(out _);
        // IS_ALIGNED(data >> 12, 4): ENDBR_EN (bit 2) with a base at 4 KiB or 8 KiB is refused, at 16 KiB accepted.
        var run = v.Run(TestCpus.Ops("wrmsr IA32_U_CET 0x1004 => #GP", "wrmsr IA32_S_CET 0x2004 => #GP",
            "wrmsr IA32_U_CET 0x4004 => ok", "wrmsr IA32_S_CET 0x8004 => ok"));
        Assert.True(run.ExpectationsMet, string.Join("\n", run.Guest));
        Assert.Equal(0L, v.SetMsrs([(Msr.IA32_U_CET, 0x3004)]).Value);
        Assert.Equal(1L, v.SetMsrs([(Msr.IA32_U_CET, 0xC004)]).Value);
    }

    [Fact]
    public void Kvm_cpu_cap_init_hides_xsaves_the_host_kernel_cleared_for_erratum_1386()
    {
        foreach (var name in new[] { "zen2-matisse", "zen1" })
        {
            var cpu = TestCpus.Get(name);
            Assert.True((cpu.Leaf(0xD, 1).Eax & 8) != 0, $"{name} enumerates XSAVES");
            var sys = TestCpus.System(cpu);
            Assert.True(sys.Host.System.Caps.Erratum1386Applied);
            var d1 = sys.GetSupportedCpuid().Single(e => e.Function == 0xD && e.Index == 1);
            Assert.Equal(cpu.Leaf(0xD, 1).Eax & 0x7, d1.Eax);
            Assert.Equal(0UL, sys.Caps.SupportedXss);
        }
    }

    [Fact]
    public void Kvm_618_refuses_a_host_initiated_xss_write_without_guest_xsaves()
    {
        foreach (var release in new[] { KvmRelease.Kvm617, KvmRelease.Kvm618 })
        {
            var sys = TestCpus.System(TestCpus.Get("spr"), release: release);
            var cpuid = sys.GetSupportedCpuid()
                .Select(e => e.Function == 0xD && e.Index == 1 ? e with { Eax = e.Eax & ~8u } : e).ToArray();
            var (_, v) = sys.CreateVm().CreateVcpu(0);
            Assert.True(v!.SetCpuid2(cpuid).Ok);
            Assert.False(v.GuestXsaves);
            // 0 is still accepted from the host (kvm_do_msr_access(): XSS is advertised).
            Assert.Equal(1L, v.SetMsrs([(Msr.IA32_XSS, 0)]).Value);
            long cet = v.SetMsrs([(Msr.IA32_XSS, XFeatureMasks.CetUser)]).Value;
            // 6.17 offers no XSS bit at all; 6.18 would (CPUID ECX enumerates CET) but refuses for want of XSAVES.
            Assert.Equal(0L, cet);
            if (release == KvmRelease.Kvm618)
                Assert.NotEqual(0UL, v.GuestSupportedXss & XFeatureMasks.CetUser);
        }
    }

    /// <summary>A guest that used AMX tiles, then disabled them with XFD; the VMM writes back an image taken before.</summary>
    private static (KvmVcpu V, RunResult Run) SetXsaveUnderXfd(KvmRelease release)
    {
        var cpu = TestCpus.Amx()!;
        var sys = TestCpus.System(cpu, release: release);
        var v = TestCpus.NewVcpu(sys);
        Assert.True(v.GuestXfd);
        var first = v.Run(TestCpus.Ops("cr4.osxsave", "xsetbv cpuid => ok", "ldtilecfg => ok", "tileloadd => ok"));
        Assert.True(first.ExpectationsMet, string.Join("\n", first.Guest));
        Assert.True(v.GetXsave2(out var withTiles).Ok);
        Assert.NotEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(withTiles.AsSpan(XsaveOffsets.XstateBv)) & XFeatureMasks.XtileData);
        Assert.True(v.Run(TestCpus.Ops("wrmsr IA32_XFD 0x40000 => ok")).ExpectationsMet);
        var set = v.SetXsave(withTiles);
        Assert.True(set.Ok, set.ToString());
        return (v, v.Run([]));
    }

    [Fact]
    public void Kvm_set_xsave_under_xfd_kills_6_18_0_in_handle_xfd_event()
    {
        var (v, run) = SetXsaveUnderXfd(KvmRelease.Kvm618);
        var k = v.Vm.System.Kernel;
        Assert.Equal(["Oops: unexpected #NM exception: 0000 [#1]"], k.Oopses);
        Assert.Contains(k.Warnings.Entries, w => w.StartsWith("handle_xfd_event(): WARN_ON(!user_mode(regs))", StringComparison.Ordinal));
        Assert.DoesNotContain(k.Warnings.Entries, w => w.StartsWith("Bad FPU state", StringComparison.Ordinal));
        Assert.False(run.Result.Ok);
        Assert.Equal(Errno.EBADF, v.GetXsave2(out _).Errno);
    }

    [Fact]
    public void Kvm_set_xsave_under_xfd_clears_xstate_bv_from_6_19()
    {
        var (v, run) = SetXsaveUnderXfd(KvmRelease.Kvm619);
        Assert.True(run.Result.Ok, run.Result.ToString());
        Assert.Empty(v.Vm.System.Kernel.Oopses);
        Assert.True(v.GetXsave2(out var img).Ok);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv)) & XFeatureMasks.XtileData);
    }

    [Theory]
    [InlineData(KvmRelease.Kvm618, true)]
    [InlineData(KvmRelease.Kvm619, false)]
    public void Host_xfd_write_over_live_tile_state_oopses_until_fpu_update_guest_xfd_clears_it(KvmRelease release, bool oops)
    {
        var sys = TestCpus.System(TestCpus.Amx()!, release: release);
        var v = TestCpus.NewVcpu(sys);
        Assert.True(v.Run(TestCpus.Ops("cr4.osxsave", "xsetbv cpuid => ok", "ldtilecfg => ok", "tileloadd => ok")).ExpectationsMet);
        Assert.Equal(1L, v.SetMsrs([(Msr.IA32_XFD, XFeatureMasks.XtileData)]).Value);
        var run = v.Run([]);
        Assert.Equal(oops, sys.Kernel.Oopses.Count == 1);
        Assert.Equal(!oops, run.Result.Ok);
    }

    [Theory]
    [InlineData("spr", "VMCS guest-state field")]
    [InlineData("zen5-turin", "VMCB save area")]
    public void S_cet_and_int_ssp_tab_live_in_the_vmcs_on_vmx_and_the_vmcb_on_svm(string cpu, string where)
    {
        var r = KvmReport.Create(BuiltinScripts.Get("qemu"), KvmSettings.For(TestCpus.Get(cpu)), "qemu");
        foreach (var msr in new[] { "IA32_S_CET", "IA32_INT_SSP_TAB" })
            Assert.Contains(where, r.CetState.Single(c => c.Msr == msr).Location, StringComparison.Ordinal);
    }
}
