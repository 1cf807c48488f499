namespace XsaveLab.Kvm.Tests;

/// <summary>The user shadow stack words of a VMM script: <c>kernel … user_shstk</c> builds the host kernel with
/// CONFIG_X86_USER_SHADOW_STACK, <c>arch_prctl ARCH_SHSTK_*</c> goes to <c>shstk_prctl()</c>, <c>signal</c> and
/// <c>sigreturn</c> push and check the restore token (arch/x86/kernel/shstk.c), and <c>ptrace … NT_X86_SHSTK</c>
/// reads and writes the task's SSP. The numbers are read back from the kernel model, never written here.</summary>
public class ShadowStackLineTests
{
    private static VmmRunner Run(string text, string cpu = "zen4-genoa") =>
        VmmRunner.Run(VmmScript.Parse(text, "t.vmm"), KvmSettings.For(TestCpus.Get(cpu), KernelVariants.Get("6.17")));

    private static void AllOk(VmmRunner r) =>
        Assert.All(r.Steps, s => Assert.True(s.Result.Ok && s.ExpectMet != false, $"line {s.Line} {s.Ioctl} {s.Args}: {s.Text}"));

    [Fact]
    public void Enable_clone_signal_and_sigreturn_round_trip_on_the_threads_own_shadow_stack()
    {
        var r = Run("""
            kernel 6.17 user_shstk
            arch_prctl ARCH_SHSTK_ENABLE shstk
            arch_prctl ARCH_SHSTK_STATUS
            expect value=1
            clone
            task 1
            signal
            sigreturn
            expect ok
            task 0
            signal
            sigreturn
            expect ok
            """);
        AllOk(r);
        var k = r.System!.Kernel;
        var (leader, thread) = (r.Tasks[0], r.Tasks[1]);
        // shstk_alloc_thread_stack(): the CLONE_VM thread got its own stack, and sigreturn put SSP back at its top.
        Assert.NotEqual(0UL, thread.Shstk.Size);
        Assert.NotEqual(leader.Shstk.Base, thread.Shstk.Base);
        Assert.Contains($"shadow stack {thread.Shstk}", r.Steps.Single(s => s.Ioctl == "clone").Text);
        var signal = r.Steps.First(s => s.Ioctl == "signal");
        Assert.Contains($"token 0x{thread.Shstk.Top | 1UL << 63:x}", signal.Text);
        k.Schedule(0, thread);
        Assert.Equal(thread.Shstk.Top, k.UserSsp(thread));
        k.Schedule(0, leader);
        Assert.Equal(leader.Shstk.Top, k.UserSsp(leader));
        Assert.Empty(thread.Signals);
    }

    /// <summary><c>shstk_pop_sigframe()</c> refuses what is not a restore token: sigreturn without the handler's RET
    /// finds the restorer (bit 63 clear) and a WRSS-overwritten token fails too; each is SIGSEGV. Without
    /// ARCH_SHSTK_WRSS the handler's WRSS is itself the SIGSEGV.</summary>
    [Fact]
    public void A_bad_restore_token_is_sigsegv()
    {
        var r = Run("""
            kernel 6.17 user_shstk
            arch_prctl ARCH_SHSTK_ENABLE shstk
            signal
            sigreturn noret
            expect errno=EINVAL
            signal
            sigreturn token=0x1000
            expect contains=CET_WRSS_EN
            arch_prctl ARCH_SHSTK_ENABLE wrss
            signal
            sigreturn token=0x1000
            expect errno=EINVAL
            """);
        Assert.All(r.Steps, s => Assert.True(s.ExpectMet != false, $"line {s.Line}: {s.Text}"));
        Assert.Contains("not a restore token", r.Steps[3].Text);
        Assert.Contains("SIGSEGV", r.Steps[3].Text);
        Assert.Equal(3, r.Tasks[0].Signals.Count(x => x.Signo == SignalInfo.SIGSEGV));
    }

    [Fact]
    public void Without_user_shstk_nothing_is_pushed_and_the_enable_fails()
    {
        var r = Run("""
            arch_prctl ARCH_SHSTK_ENABLE shstk
            signal
            sigreturn noret
            expect ok
            ptrace GET NT_X86_SHSTK
            """);
        Assert.False(r.Steps[0].Result.Ok, r.Steps[0].Text);
        Assert.DoesNotContain("token", r.Steps[1].Text);
        Assert.True(r.Steps[2].ExpectMet);
        Assert.False(r.Steps[3].Result.Ok, r.Steps[3].Text);
    }

    [Fact]
    public void Exec_resets_the_shadow_stack_features()
    {
        var r = Run("""
            kernel 6.17 user_shstk
            arch_prctl ARCH_SHSTK_ENABLE shstk
            arch_prctl ARCH_SHSTK_LOCK shstk
            arch_prctl ARCH_SHSTK_DISABLE shstk
            expect errno=EPERM
            exec
            arch_prctl ARCH_SHSTK_STATUS
            expect value=0
            arch_prctl ARCH_SHSTK_DISABLE shstk
            expect ok
            """);
        Assert.All(r.Steps, s => Assert.True(s.ExpectMet != false, $"line {s.Line}: {s.Text}"));
        Assert.Equal(0UL, r.Tasks[0].ShstkFeatures);
        Assert.Equal(0UL, r.Tasks[0].ShstkFeaturesLocked);
    }

    [Fact]
    public void Ptrace_nt_x86_shstk_reads_and_writes_the_ssp()
    {
        var r = Run("""
            kernel 6.17 user_shstk
            arch_prctl ARCH_SHSTK_ENABLE shstk
            ptrace GET NT_X86_SHSTK
            ptrace SET NT_X86_SHSTK=0x1000
            ptrace GET NT_X86_SHSTK
            expect value=0x1000
            ptrace SET NT_X86_SHSTK=0x1001
            expect errno=EINVAL
            """);
        var t = r.Tasks[0];
        Assert.Equal((long)t.Shstk.Top, r.Steps[2].Output);
        Assert.Equal($"0x{t.Shstk.Top:x}", r.Steps[2].OutputText);
        Assert.True(r.Steps[3].Result.Ok, r.Steps[3].Text);
        Assert.All(r.Steps, s => Assert.True(s.ExpectMet != false, $"line {s.Line}: {s.Text}"));
    }

    [Theory]
    [InlineData("kernel 6.17 shstk", "bad kernel option")]
    [InlineData("arch_prctl ARCH_SHSTK_ENABLE", "needs a feature")]
    [InlineData("arch_prctl ARCH_SHSTK_ENABLE ibt", "unknown shadow stack feature")]
    [InlineData("arch_prctl ARCH_SHSTK_STATUS 1", "takes no argument")]
    [InlineData("sigreturn token=x", "bad token")]
    [InlineData("signal restorer=", "usage: signal")]
    [InlineData("ptrace SET NT_X86_SHSTK=zz", "bad SSP")]
    [InlineData("ptrace GET NT_X86_SHSTK 1", "usage: ptrace")]
    public void Bad_shadow_stack_words_name_the_line(string line, string problem)
    {
        var e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("kvm 6.18\n" + line + "\n", "s.vmm"));
        Assert.Equal(2, e.Line);
        Assert.Contains(problem, e.Problem);
    }
}
