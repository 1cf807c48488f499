namespace XsaveLab.Kvm.Tests;

/// <summary>Guest instructions in KVM scripts where the instruction model and KVM meet: buffer addresses and the
/// modified optimization (SDM Vol.1 §13.6, XRSTOR_INFO), IA32_XFD_ERR on #NM (<c>handle_nm_fault_irqoff()</c>).</summary>
public class GuestInstructionTests
{
    private static KvmVcpu Vcpu(string cpu)
    {
        var v = TestCpus.NewVcpu(TestCpus.System(TestCpus.Get(cpu)));
        Assert.True(v.SetCr4OsXsave(true).Ok);
        Assert.True(v.SetXcrs([(0u, v.GuestSupportedXcr0)]).Ok);
        return v;
    }

    /// <summary>After <c>xrstors bufA</c>, an <c>xsaves bufB</c> is at another linear address, so the modified
    /// optimization does not apply and bufB receives the AVX state; restoring bufB after <c>init avx</c> brings AVX
    /// back in use.</summary>
    [Theory]
    [InlineData("zen4-genoa")]
    [InlineData("spr")]
    public void Each_named_buffer_has_its_own_address_for_the_modified_optimization(string cpu)
    {
        var v = Vcpu(cpu);
        var r = v.Run(TestCpus.Ops("write avx", "xsaves bufA cpuid => ok", "xrstors bufA cpuid => ok", "xsaves bufB cpuid => ok",
            "init avx", "xrstors bufB cpuid => ok", "xgetbv 1"));
        Assert.True(r.Result.Ok && r.ExpectationsMet, string.Join("\n", r.Guest));
        Assert.NotEqual(v.Vm.GuestAddress("bufA"), v.Vm.GuestAddress("bufB"));
        var a = new XsaveArea(v.Vm.GuestMemory["bufA"]);
        var b = new XsaveArea(v.Vm.GuestMemory["bufB"]);
        var profile = v.Vm.System.Settings.Cpu;
        Assert.Equal(a.Component(profile, (int)XFeature.Ymm).ToArray(), b.Component(profile, (int)XFeature.Ymm).ToArray());
        Assert.Equal(XFeatureMasks.Ymm, r.Guest[^1].Value & XFeatureMasks.Ymm);
    }

    /// <summary><c>handle_nm_fault_irqoff()</c> records IA32_XFD_ERR for any #NM while the guest's XFD is armed: an
    /// XRSTORS of an image with tile data, not only a tile instruction.</summary>
    [SkippableFact]
    public void Xrstors_nm_under_guest_xfd_records_xfd_err()
    {
        var cpu = TestCpus.Amx();
        Skip.If(cpu is null, "no catalog CPU with AMX and XFD");
        var v = Vcpu(cpu!.Name);
        var r = v.Run(TestCpus.Ops("wrmsr IA32_XSS cpuid => ok", "tileloadd => ok", "xsaves img cpuid => ok", "wrmsr IA32_XFD 0x40000 => ok",
            "xrstors img cpuid => #NM"));
        Assert.True(r.Result.Ok && r.ExpectationsMet, string.Join("\n", r.Guest));
        Assert.Equal(XFeatureMasks.XtileData, v.Fpu.XfdErr);
        r = v.Run(TestCpus.Ops("rdmsr IA32_XFD_ERR => 0x40000"));
        Assert.True(r.ExpectationsMet, string.Join("\n", r.Guest));
    }
}
