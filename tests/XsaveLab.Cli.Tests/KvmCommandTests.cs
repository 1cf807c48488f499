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
}
