namespace XsaveLab.Kvm.Tests;

/// <summary>INIT of a vCPU: <c>kvm_vcpu_reset(vcpu, init_event = true)</c> → <c>kvm_xstate_reset()</c> (arch/x86/kvm/x86.c),
/// and on VMX <c>vmx_vcpu_reset()</c>'s CET fields.</summary>
public class VcpuInitTests
{
    private static KvmVcpu Started(CpuProfile cpu, KvmRelease release, params string[] guest)
    {
        var sys = TestCpus.System(cpu, release: release);
        var (r, v) = sys.CreateVm().CreateVcpu(0);
        Assert.True(r.Ok, r.ToString());
        Assert.True(v!.SetCpuid2(CpuidExposure.All.Apply(sys.GetSupportedCpuid())).Ok);
        var run = v.Run(TestCpus.Ops(["cr4.osxsave", "xsetbv cpuid", .. guest]));
        Assert.True(run.ExpectationsMet && run.Guest.All(g => !g.Fault.IsFault), string.Join("; ", run.Guest));
        return v;
    }

    [Fact]
    public void Init_on_6_18_zeroes_the_cet_components_and_keeps_xcr0_xss_and_avx()
    {
        var cpu = TestCpus.Amx()!;
        var v = Started(cpu, KvmRelease.Kvm618, "wrmsr IA32_XSS cpuid", "wrmsr IA32_U_CET 1", "wrmsr IA32_PL3_SSP 0x7fff0000",
            "wrmsr IA32_PL0_SSP 0xffff800000001000", "wrmsr IA32_S_CET 1", "write ymm");
        Assert.True(v.SetOneReg(KvmAbi.RegGuestSspId, 0x7ffe0000).Ok);
        ulong xcr0 = v.Xcr0, xss = v.Ia32Xss;
        byte[] before = v.Fpu.FpState!.Regs.ToArray();

        var r = v.Init();
        Assert.True(r.Ok, r.ToString());

        uint[] cet = [Msr.IA32_U_CET, Msr.IA32_PL3_SSP, Msr.IA32_PL0_SSP, Msr.IA32_S_CET];
        Assert.Equal(cet.Length, v.GetMsrs(cet, out var vals).Value);
        Assert.All(vals, x => Assert.Equal(0UL, x));
        Assert.True(v.GetOneReg(KvmAbi.RegGuestSspId, out var ssp).Ok);
        Assert.Equal(0UL, ssp);                          // vmx_vcpu_reset(): GUEST_SSP = 0
        Assert.Equal(xcr0, v.Xcr0);                      // __kvm_set_xcr() only when !init_event
        Assert.Equal(xss, v.Ia32Xss);
        Assert.False(v.Cr4OsXsave);
        // Everything outside MPX/CET is as it was: the AVX state the guest wrote is still in the fpstate.
        var layout = Arch.Layout.XStateLayout.CompactedForm(cpu, v.Fpu.FpState.XcompBv & ~XFeatureMasks.CompactedFormat);
        int at = layout.OffsetOf(2), size = cpu.Component(2)!.Value.Size;
        Assert.Equal(before.AsSpan(at, size).ToArray(), v.Fpu.FpState.Regs.Slice(at, size).ToArray());
        Assert.Contains(before.AsSpan(at, size).ToArray(), b => b != 0);
    }

    [Fact]
    public void Init_clears_mpx_on_every_release_and_cet_only_from_6_18()
    {
        Assert.Equal(XFeatureMasks.Mpx, KvmVcpu.InitClearedFeatures(KvmRelease.Kvm617));
        Assert.Equal(XFeatureMasks.Mpx, KvmVcpu.InitClearedFeatures(KvmRelease.Kvm612));
        Assert.Equal(XFeatureMasks.Mpx | XFeatureMasks.CetUser | XFeatureMasks.CetKernel, KvmVcpu.InitClearedFeatures(KvmRelease.Kvm618));

        var mpx = CpuCatalog.All.FirstOrDefault(c => (TestCpus.System(c, release: KvmRelease.Kvm617).Caps.SupportedXcr0 & XFeatureMasks.Mpx) != 0);
        Assert.NotNull(mpx);
        var v = Started(mpx, KvmRelease.Kvm617, "write 3", "write ymm");
        var fps = v.Fpu.FpState!;
        bool compacted = (fps.XcompBv & XFeatureMasks.CompactedFormat) != 0;
        var layout = compacted ? Arch.Layout.XStateLayout.CompactedForm(mpx, fps.XcompBv & ~XFeatureMasks.CompactedFormat) : Arch.Layout.XStateLayout.Standard(mpx, fps.Xfeatures);
        int bnd = layout.OffsetOf(3), bndSize = mpx.Component(3)!.Value.Size;
        Assert.Contains(fps.Regs.Slice(bnd, bndSize).ToArray(), b => b != 0);
        ulong bv = fps.XstateBv;

        Assert.True(v.Init().Ok);
        Assert.All(fps.Regs.Slice(bnd, bndSize).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(bv, fps.XstateBv);                  // fpstate_clear_xstate_component() zeroes data, not XSTATE_BV
    }

    [Fact]
    public void The_init_script_step_reports_what_kvm_xstate_reset_cleared()
    {
        var text = """
            KVM_GET_SUPPORTED_CPUID
            KVM_CREATE_VM
            KVM_CREATE_VCPU 0
            KVM_SET_CPUID2 expose=all
            KVM_RUN guest: cr4.osxsave; xsetbv cpuid; wrmsr IA32_XSS cpuid; wrmsr IA32_U_CET 1 => ok
            init
            expect contains=CET_U
            KVM_GET_MSRS IA32_U_CET
            expect contains=IA32_U_CET=0x0
            """;
        var r = KvmReport.Create(VmmScript.Parse(text, "init.vmm"), KvmSettings.For(TestCpus.Amx()!), "init.vmm");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_CREATE_VM\ninit now", "x.vmm"));
    }
}
