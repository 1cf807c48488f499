namespace XsaveLab.Kvm.Tests;

/// <summary>The task lines of a VMM script run the kernel model's task paths on the VMM's kernel, and the
/// <c>check</c> line reports the invariants.</summary>
public class TaskLineTests
{
    private static VmmRunner Run(string text, string cpu = "spr", string variant = "6.17") =>
        VmmRunner.Run(VmmScript.Parse(text, "t.vmm"), KvmSettings.For(TestCpus.Get(cpu), KernelVariants.Get(variant)));

    [Fact]
    public void Fork_clone_and_exec_follow_the_kernel_rules_for_permissions()
    {
        var r = Run("""
            arch_prctl REQ_XCOMP_PERM 18
            fork
            clone
            task 1
            exec
            check
            """);
        Assert.All(r.Steps, s => Assert.True(s.Result.Ok, $"{s.Ioctl}: {s.Text}"));
        var k = r.System!.Kernel;
        var (vmm, child, thread) = (r.Tasks[0], r.Tasks[1], r.Tasks[2]);
        Assert.Same(vmm.Group, thread.Group);
        Assert.NotSame(vmm.Group, child.Group);
        // fpu_inherit_perms(): a forked process keeps the AMX permission; execve() resets it (fpstate_reset()).
        Assert.Equal(0UL, child.Fpu.Perm.StatePerm & XFeatureMasks.XtileData);
        Assert.Equal(XFeatureMasks.XtileData, vmm.Fpu.Perm.StatePerm & XFeatureMasks.XtileData);
        Assert.Equal(k.System.KernelCfg.DefaultFeatures, child.Fpu.Perm.StatePerm);
    }

    [Fact]
    public void First_use_of_amx_reallocates_with_permission_and_signals_without()
    {
        var r = Run("""
            use 18
            arch_prctl REQ_XCOMP_PERM 18
            use 18
            """);
        Assert.Equal(SignalInfo.SIGILL, r.Steps[0].Result.Value);
        Assert.Equal(0, r.Steps[2].Result.Value);
        var fps = r.Tasks[0].Fpu.FpState;
        Assert.True(fps.IsValloc);
        Assert.NotEqual(0UL, fps.Xfeatures & XFeatureMasks.XtileData);
    }

    [Fact]
    public void Signal_and_sigreturn_round_trip_and_an_edited_frame_is_refused()
    {
        var r = Run("""
            signal
            sigreturn
            signal
            sigreturn xstate_bv|=0x800
            sigreturn
            """);
        Assert.True(r.Steps[1].Result.Ok, r.Steps[1].Text);
        Assert.False(r.Steps[3].Result.Ok, r.Steps[3].Text);
        Assert.Equal(Errno.EINVAL, r.Steps[4].Result.Errno);
    }

    [Fact]
    public void Ptrace_set_of_a_supervisor_bit_is_refused()
    {
        var r = Run("""
            fork
            task 1
            ptrace GET
            ptrace SET
            ptrace SET xstate_bv|=0x800
            """);
        Assert.True(r.Steps[3].Result.Ok, r.Steps[3].Text);
        Assert.False(r.Steps[4].Result.Ok, r.Steps[4].Text);
    }

    [Fact]
    public void After_the_vmm_execs_its_vcpu_fds_answer_EIO_and_after_it_exits_EBADF()
    {
        var r = Run("""
            KVM_CREATE_VM
            KVM_CREATE_VCPU 0
            exec
            KVM_GET_XSAVE2
            KVM_CHECK_EXTENSION KVM_CAP_XSAVE2
            check
            exit
            KVM_CHECK_EXTENSION KVM_CAP_XSAVE2
            """);
        Assert.Equal(Errno.EIO, r.Steps[3].Result.Errno);
        Assert.True(r.Steps[4].Result.Ok);
        Assert.True(r.Steps[5].Result.Ok, r.Steps[5].Text);
        Assert.Equal(Errno.EBADF, r.Steps[7].Result.Errno);
    }

    [Fact]
    public void Check_names_the_broken_invariant_and_its_rule()
    {
        var r = Run("""
            arch_prctl REQ_XCOMP_PERM 18
            check
            expect ok
            """, variant: "6.15");
        var check = r.Steps[^1];
        Assert.False(check.Result.Ok);
        Assert.Contains("perm-keeps-supervisor", check.Text, StringComparison.Ordinal);
        Assert.Contains("d8414603b29f", check.Text, StringComparison.Ordinal);
        Assert.True(check.Failed);
    }

    [Theory]
    [InlineData("task x")]
    [InlineData("task 65")]
    [InlineData("switch")]
    [InlineData("fork 1")]
    [InlineData("ptrace PEEK")]
    [InlineData("ptrace GET xstate_bv=1")]
    [InlineData("use")]
    [InlineData("sigaltstack")]
    [InlineData("sigreturn bogus")]
    [InlineData("check now")]
    public void Bad_task_lines_are_parse_errors_naming_the_line(string line)
    {
        var e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("fork\n" + line, "t.vmm"));
        Assert.StartsWith("t.vmm:2: ", e.Message, StringComparison.Ordinal);
    }
}
