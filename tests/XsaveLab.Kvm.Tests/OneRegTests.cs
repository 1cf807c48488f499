namespace XsaveLab.Kvm.Tests;

/// <summary>KVM_GET_ONE_REG, KVM_SET_ONE_REG and KVM_GET_REG_LIST on x86 (6.18: <c>kvm_get_set_one_reg()</c>,
/// <c>kvm_translate_kvm_reg()</c>, <c>kvm_get_reg_list()</c> in arch/x86/kvm/x86.c) and the guest SSP behind
/// KVM_REG_GUEST_SSP.</summary>
public class OneRegTests
{
    private static CpuProfile CetCpu() => TestCpus.Amx() ?? throw new InvalidOperationException("the catalog has a CPU with AMX and SHSTK");

    private static KvmVcpu Vcpu(CpuProfile cpu, KvmRelease release = KvmRelease.Kvm618, bool shstk = true)
    {
        var sys = TestCpus.System(cpu, release: release);
        var (r, v) = sys.CreateVm().CreateVcpu(0);
        Assert.True(r.Ok, r.ToString());
        var s = v!.SetCpuid2((CpuidExposure.All with { Cet = shstk }).Apply(sys.GetSupportedCpuid()));
        Assert.True(s.Ok, s.ToString());
        return v;
    }

    [Fact]
    public void Ids_and_ioctl_numbers_follow_the_uapi_encoding()
    {
        // Documentation/virt/kvm/api.rst (6.18): "x86 MSR registers have the following id bit patterns:
        // 0x2030 0002 <msr number:32>"; KVM_X86_REG_KVM(0) has type 3 in the same place.
        Assert.Equal(0x20300002000006a0UL, KvmAbi.RegMsr(Msr.IA32_U_CET));
        Assert.Equal(0x2030000300000000UL, KvmAbi.RegGuestSspId);
        // _IOW(KVMIO, 0xab/0xac, struct kvm_one_reg) and _IOWR(KVMIO, 0xb0, struct kvm_reg_list).
        Assert.Equal(0x4010aeabUL, KvmAbi.GetOneReg);
        Assert.Equal(0x4010aeacUL, KvmAbi.SetOneReg);
        Assert.Equal(0xc008aeb0UL, KvmAbi.GetRegList);
    }

    [Theory]
    [InlineData(KvmRelease.Kvm612, false)]
    [InlineData(KvmRelease.Kvm617, false)]
    [InlineData(KvmRelease.Kvm618, true)]
    [InlineData(KvmRelease.Kvm619, true)]
    public void One_reg_exists_on_x86_from_6_18(KvmRelease release, bool present)
    {
        var v = Vcpu(CetCpu(), release, shstk: release >= KvmRelease.Kvm618);
        Assert.Equal(present ? 1 : 0, v.Vm.System.CheckExtension(KvmAbi.CapOneReg).Value);
        var get = v.GetOneReg(KvmAbi.RegMsr(Msr.IA32_XSS), out _);
        var list = v.GetRegList(16, out _, out _);
        Assert.Equal(present ? Errno.None : Errno.EINVAL, get.Errno);
        Assert.Equal(present ? Errno.None : Errno.EINVAL, list.Errno);
    }

    /// <summary>Fails on the model before KVM_REG_GUEST_SSP existed: the register was not reachable at all.</summary>
    [Fact]
    public void Guest_ssp_reads_and_writes_through_kvm_translate_kvm_reg()
    {
        var v = Vcpu(CetCpu());
        Assert.True(v.GetOneReg(KvmAbi.RegGuestSspId, out var reset).Ok);
        Assert.Equal(0UL, reset);
        const ulong top = 0x7fff_fffe_f000;
        var set = v.SetOneReg(KvmAbi.RegGuestSspId, top);
        Assert.True(set.Ok, set.ToString());
        Assert.True(v.GetOneReg(KvmAbi.RegGuestSspId, out var back).Ok);
        Assert.Equal(top, back);
        Assert.Equal(top, v.Ssp);
    }

    [Theory]
    [InlineData(0x7fff_0002UL)]              // !IS_ALIGNED(data, 4)
    [InlineData(0x0000_8000_0000_0000UL)]    // is_noncanonical_msr_address()
    public void Guest_ssp_writes_must_be_canonical_and_4_byte_aligned(ulong bad)
    {
        var v = Vcpu(CetCpu());
        var r = v.SetOneReg(KvmAbi.RegGuestSspId, bad);
        Assert.Equal(Errno.EINVAL, r.Errno);
        Assert.Equal(0UL, v.Ssp);
    }

    [Fact]
    public void Guest_ssp_without_shstk_in_guest_cpuid_is_einval()
    {
        var v = Vcpu(CetCpu(), shstk: false);
        Assert.False(v.GuestShstk);
        Assert.Equal(Errno.EINVAL, v.GetOneReg(KvmAbi.RegGuestSspId, out _).Errno);
        Assert.Equal(Errno.EINVAL, v.SetOneReg(KvmAbi.RegGuestSspId, 0x1000).Errno);
        Assert.Contains("SHSTK", v.GetOneReg(KvmAbi.RegGuestSspId, out _).Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Reg_list_names_ssp_only_for_a_shstk_guest_and_reports_n_before_e2big()
    {
        var v = Vcpu(CetCpu());
        var small = v.GetRegList(0, out var n, out var none);
        Assert.Equal(Errno.E2BIG, small.Errno);
        Assert.Equal(1UL, n);
        Assert.Empty(none);
        Assert.True(v.GetRegList(n, out _, out var ids).Ok);
        Assert.Equal([KvmAbi.RegGuestSspId], ids);

        var plain = Vcpu(CetCpu(), shstk: false);
        Assert.True(plain.GetRegList(0, out var zero, out var empty).Ok);
        Assert.Equal(0UL, zero);
        Assert.Empty(empty);
    }

    [Fact]
    public void Msr_ids_take_the_host_initiated_msr_path_and_bad_ids_are_einval()
    {
        var v = Vcpu(CetCpu());
        Assert.True(v.SetMsrs([(Msr.IA32_PL3_SSP, 0x7fff_0000UL)]).Value == 1);
        Assert.True(v.GetOneReg(KvmAbi.RegMsr(Msr.IA32_PL3_SSP), out var pl3).Ok);
        Assert.Equal(0x7fff_0000UL, pl3);
        Assert.True(v.SetOneReg(KvmAbi.RegMsr(Msr.IA32_U_CET), 1).Ok);
        v.GetMsrs([Msr.IA32_U_CET], out var ucet);
        Assert.Equal(1UL, ucet[0]);

        ulong ssp = KvmAbi.RegGuestSspId;
        Assert.Equal(Errno.EINVAL, v.GetOneReg(ssp & ~KvmAbi.RegArchMask | 0x6000000000000000, out _).Errno); // KVM_REG_ARM64
        Assert.Equal(Errno.EINVAL, v.GetOneReg(ssp | 1UL << 40, out _).Errno);                               // rsvd1
        Assert.Equal(Errno.EINVAL, v.GetOneReg(ssp | 1UL << 48, out _).Errno);                               // rsvd2
        Assert.Equal(Errno.EINVAL, v.GetOneReg(KvmAbi.RegId(1, Msr.IA32_XSS), out _).Errno);                // type 1
        Assert.Equal(Errno.EINVAL, v.GetOneReg(KvmAbi.RegKvm(1), out _).Errno);                              // no KVM reg 1
        Assert.Equal(Errno.EINVAL, v.GetOneReg(ssp & ~KvmAbi.RegSizeMask | 0x0020000000000000, out _).Errno); // KVM_REG_SIZE_U32
        Assert.Equal(Errno.EINVAL, v.GetOneReg(KvmAbi.RegMsr(0x10), out _).Errno);                           // an MSR the model's KVM refuses
    }

    [Fact]
    public void The_guest_cannot_reach_kvms_internal_ssp_index_with_rdmsr()
    {
        var v = Vcpu(CetCpu());
        var run = v.Run(TestCpus.Ops("rdmsr 0x4b564dff", "wrmsr 0x4b564dff 0x1000"));
        Assert.All(run.Guest, g => Assert.Equal(Arch.Machine.FaultKind.GeneralProtection, g.Fault.Kind));
    }

    [Fact]
    public void Ssp_lives_in_the_vmcs_on_vmx_and_in_the_vmcb_save_area_on_svm()
    {
        Assert.StartsWith("VMCS guest-state field GUEST_SSP", Vcpu(CetCpu()).SspLocation, StringComparison.Ordinal);
        var amd = CpuCatalog.All.Where(c => c.Vendor is CpuVendor.Amd)
            .FirstOrDefault(c => TestCpus.System(c).Caps.Shstk);
        Assert.NotNull(amd);
        var svm = Vcpu(amd);
        Assert.Contains("VMCB save area", svm.SspLocation, StringComparison.Ordinal);
        Assert.DoesNotContain("VMCS", svm.SspLocation, StringComparison.Ordinal);
    }

    [Fact]
    public void Script_lines_reach_the_ioctls_and_bad_registers_name_the_line()
    {
        var text = """
            KVM_GET_SUPPORTED_CPUID
            KVM_CREATE_VM
            KVM_CREATE_VCPU 0
            KVM_SET_CPUID2 expose=all
            KVM_GET_REG_LIST
            expect value=1
            KVM_SET_ONE_REG KVM_REG_GUEST_SSP=0x7fff0000
            expect ok
            KVM_GET_ONE_REG SSP
            expect value=0x7fff0000
            KVM_SET_ONE_REG SSP=0x7fff0001
            expect errno=EINVAL
            KVM_GET_REG_LIST n=0
            expect errno=E2BIG
            """;
        var r = KvmReport.Create(VmmScript.Parse(text, "onereg.vmm"), KvmSettings.For(CetCpu()), "onereg.vmm");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        Assert.Contains("KVM_REG_GUEST_SSP (0x2030000300000000)", r.Steps.First(s => s.Ioctl == "KVM_GET_REG_LIST").Text, StringComparison.Ordinal);

        var e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_CREATE_VM\nKVM_GET_ONE_REG NOSUCH", "bad.vmm"));
        Assert.StartsWith("bad.vmm:2: unknown register 'NOSUCH'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_CREATE_VM\n\nKVM_SET_ONE_REG SSP=zz", "bad.vmm"));
        Assert.StartsWith("bad.vmm:3: bad register assignment", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_GET_REG_LIST 4", "bad.vmm"));
        Assert.StartsWith("bad.vmm:1: usage: KVM_GET_REG_LIST", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("save snap", true)]
    [InlineData("save snap omit=ssp", false)]
    public void A_snapshot_carries_the_guest_ssp_only_when_the_vmm_saves_the_reg_list(string save, bool carried)
    {
        const ulong ssp = 0x7fff_0ff8;
        var text = $"""
            KVM_GET_SUPPORTED_CPUID
            KVM_CREATE_VM
            KVM_CREATE_VCPU 0
            KVM_SET_CPUID2 expose=all
            KVM_SET_ONE_REG SSP=0x{ssp:x}
            {save}
            restore snap
            KVM_GET_ONE_REG SSP
            """;
        var r = KvmReport.Create(VmmScript.Parse(text, "snap.vmm"), KvmSettings.For(CetCpu()), "snap.vmm");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        Assert.Equal(carried, r.Steps.Any(s => s.Ioctl == "KVM_SET_ONE_REG" && s.Args == "(restore)"));
        // The restored vCPU is a new one: without the saved value it keeps its reset SSP.
        Assert.Equal(carried ? (long)ssp : 0, r.Steps.Last(s => s.Ioctl == "KVM_GET_ONE_REG").Output);
    }
}
