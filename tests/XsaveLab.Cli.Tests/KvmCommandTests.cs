namespace XsaveLab.Cli.Tests;

public class KvmCommandTests
{
    [Fact]
    public void Json_has_the_documented_keys_and_the_models_values()
    {
        var (code, output, err) = CliRunner.Run("kvm", "--cpu", "spr", "--kernel", "6.17", "--vmm", "qemu", "--format", "json");
        Assert.True(code == 0, err + output);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal("6.17", r.GetProperty("kernel").GetString());
        var steps = r.GetProperty("steps").EnumerateArray().ToArray();
        Assert.NotEmpty(steps);
        Assert.All(steps, s => { Assert.False(string.IsNullOrEmpty(s.GetProperty("ioctl").GetString())); Assert.NotNull(s.GetProperty("result").GetString()); });
        // The QEMU sequence requests guest permission first, so the XSAVE2 size includes AMX.
        var sys = new KvmSystem(KvmSettings.For(CpuCatalog.Get("spr"), KernelVariants.V6_17));
        sys.ArchPrctl(XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm, 18);
        Assert.Equal(sys.CheckExtension(KvmAbi.CapXsave2).Value, r.GetProperty("xsave2Size").GetInt64());
        var cpuid = r.GetProperty("supportedCpuid").EnumerateArray().ToArray();
        Assert.Contains(cpuid, e => e.GetProperty("subleaf").GetInt32() == 0 && e.GetProperty("leaf").GetString() == "0xd");
        foreach (var key in new[] { "eax", "ebx", "ecx", "edx" })
            Assert.StartsWith("0x", cpuid[0].GetProperty(key).GetString(), StringComparison.Ordinal);
        Assert.True(r.GetProperty("guestFpstate").GetProperty("size").GetInt32() > 0);
        Assert.StartsWith("0x", r.GetProperty("hostFpstate").GetProperty("features").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Text_output_shows_steps_cpuid_and_fpstates()
    {
        var (code, output, err) = CliRunner.Run("kvm", "--cpu", "spr", "--vmm", "pitfall-perm-after-vcpu");
        Assert.True(code == 0, err);
        Assert.Contains("-EBUSY", output, StringComparison.Ordinal);
        Assert.Contains("KVM_GET_SUPPORTED_CPUID leaf 0xd", output, StringComparison.Ordinal);
        Assert.Contains("host task", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_script_is_one_error_naming_file_and_line()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvm-{Guid.NewGuid():N}.vmm");
        File.WriteAllText(path, "KVM_CREATE_VM\nKVM_BOGUS 1\n");
        try
        {
            var (code, output, err) = CliRunner.Run("kvm", "--cpu", "spr", "--vmm", path);
            Assert.Equal(2, code);
            Assert.Equal("", output);
            Assert.Contains($"{path}:2:", err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void An_unmet_expectation_exits_1()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvm-{Guid.NewGuid():N}.vmm");
        File.WriteAllText(path, "KVM_CREATE_VM\nKVM_CREATE_VCPU 0\narch_prctl REQ_XCOMP_GUEST_PERM 18\nexpect ok\n");
        try
        {
            var (code, _, _) = CliRunner.Run("kvm", "--cpu", "spr", "--vmm", path, "--format", "json");
            Assert.Equal(1, code);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The README's shadow stack script through <c>kvm --vmm</c>: the restore token is pushed and checked,
    /// a sigreturn without the handler's RET is SIGSEGV, and the expectations decide the exit code.</summary>
    [Fact]
    public void A_shadow_stack_script_runs_through_the_cli()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvm-{Guid.NewGuid():N}.vmm");
        File.WriteAllText(path, "kernel 6.17 user_shstk\narch_prctl ARCH_SHSTK_ENABLE shstk\nexpect ok\nsignal\nsigreturn\nexpect ok\n"
            + "signal\nsigreturn noret\nexpect errno=EINVAL\n");
        try
        {
            var (code, output, err) = CliRunner.Run("kvm", "--cpu", "zen4-genoa", "--vmm", path);
            Assert.True(code == 0, err + output);
            Assert.Contains("setup_signal_shadow_stack(): token", output, StringComparison.Ordinal);
            // Wrapped table text, words rejoined.
            Assert.Contains("rt_sigreturn badframe, SIGSEGV", string.Join(' ', output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
            File.AppendAllText(path, "arch_prctl ARCH_SHSTK_STATUS\nexpect value=0\n");
            Assert.Equal(1, CliRunner.Run("kvm", "--cpu", "zen4-genoa", "--vmm", path, "--format", "json").ExitCode);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>An LTS kernel runs with its own release's KVM unless <c>--kvm</c> names one: on spr the guest gets no
    /// supervisor state from KVM 6.6 (CPUID 0xd.1 ECX = 0), while 6.17 with KVM 6.18 offers CET_U and CET_S.</summary>
    [Fact]
    public void An_lts_kernel_runs_with_its_own_kvm_unless_kvm_is_given()
    {
        static (string Kvm, string Xss) Run(params string[] extra)
        {
            var r = CliRunner.Run(["kvm", "--cpu", "spr", .. extra, "--format", "json"]);
            Assert.True(r.ExitCode == 0, r.ToString());
            using var doc = JsonDocument.Parse(r.Out);
            var d1 = doc.RootElement.GetProperty("supportedCpuid").EnumerateArray().Single(e => e.GetProperty("subleaf").GetInt32() == 1);
            return (doc.RootElement.GetProperty("kvm").GetString()!, d1.GetProperty("ecx").GetString()!);
        }
        Assert.Equal(("6.6", "0x0"), Run("--kernel", "6.6"));
        Assert.Equal("6.18", Run("--kernel", "6.6", "--kvm", "6.18").Kvm);
        Assert.Equal(("6.18", $"0x{XFeatureMasks.CetUser | XFeatureMasks.CetKernel:x}"), Run("--kernel", "6.17"));
        Assert.Contains("kernel 6.12; KVM 6.12", CliRunner.Run("kvm", "--cpu", "spr", "--kernel", "6.12").Out, StringComparison.Ordinal);
        var variants = CliRunner.Run("variants", "--format", "json");
        using var vdoc = JsonDocument.Parse(variants.Out);
        Assert.All(vdoc.RootElement.GetProperty("variants").EnumerateArray(), v =>
            Assert.Equal(XsaveLab.Kvm.Caps.KvmReleases.Name(XsaveLab.Kvm.Caps.KvmReleases.For(KernelVariants.Get(v.GetProperty("name").GetString()!))), v.GetProperty("kvm").GetString()));
    }
}
