namespace XsaveLab.Kvm.Tests;

public class VcpuLifecycleTests
{
    [Fact]
    public void Destroy_frees_the_guest_fpstate_and_the_fd_is_gone()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        var v = TestCpus.NewVcpu(sys);
        var fps = v.Fpu.FpState!;
        Assert.True(v.Destroy().Ok);
        Assert.Null(v.Fpu.FpState);
        Assert.True(fps.Freed);
        Assert.Equal(Errno.EBADF, v.GetXsave2(out _).Errno);
        Assert.Equal(Errno.EBADF, v.Run([]).Result.Errno);
        Assert.Null(v.Vm.Vcpu(0));
        Assert.Empty(sys.Kernel.Warnings.Entries);
    }

    [Fact]
    public void Cpuid_cannot_change_after_the_first_run_but_may_be_set_again_unchanged()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        var v = TestCpus.NewVcpu(sys);
        Assert.True(v.Run(TestCpus.Ops("cr4.osxsave")).Result.Ok);
        Assert.True(v.SetCpuid2(v.Cpuid).Ok);
        var changed = v.Cpuid.Where(e => !(e.Function == 0xD && e.Index == 18)).ToArray();
        Assert.Equal(Errno.EINVAL, v.SetCpuid2(changed).Errno);
        Assert.Equal(Errno.EEXIST, v.Vm.CreateVcpu(0).Result.Errno);
    }

    [Fact]
    public void Two_vcpus_on_one_thread_keep_their_own_xsave_managed_state()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
        var vm = sys.CreateVm();
        var a = vm.CreateVcpu(0).Vcpu!;
        var b = vm.CreateVcpu(1).Vcpu!;
        Assert.True(a.SetCpuid2(sys.GetSupportedCpuid()).Ok);
        Assert.True(b.SetCpuid2(sys.GetSupportedCpuid()).Ok);
        for (int round = 0; round < 3; round++)
        {
            ulong va = 0xffff800000001000UL + (ulong)round * 0x100, vb = 0x7fff0000UL + (ulong)round * 0x100;
            Assert.True(a.Run(TestCpus.Ops($"wrmsr IA32_PL0_SSP 0x{va:x} => ok", "wrmsr IA32_XFD 0x40000 => ok")).ExpectationsMet);
            Assert.True(b.Run(TestCpus.Ops($"wrmsr IA32_PL0_SSP 0x{vb:x} => ok", "rdmsr IA32_XFD => 0")).ExpectationsMet);
            Assert.True(a.Run(TestCpus.Ops($"rdmsr IA32_PL0_SSP => 0x{va:x}", "rdmsr IA32_XFD => 0x40000", "wrmsr IA32_XFD 0 => ok")).ExpectationsMet);
            Assert.True(b.Run(TestCpus.Ops($"rdmsr IA32_PL0_SSP => 0x{vb:x}")).ExpectationsMet);
            Assert.Equal(1L, a.GetMsrs([Msr.IA32_PL0_SSP], out var x).Value);
            Assert.Equal(va, x[0]);
        }
        Assert.Empty(sys.Kernel.Warnings.Entries);
    }
}
