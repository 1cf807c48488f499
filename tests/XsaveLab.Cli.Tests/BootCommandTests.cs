namespace XsaveLab.Cli.Tests;

public class BootCommandTests
{
    [Fact]
    public void Json_has_the_documented_keys_and_the_models_values()
    {
        var (code, output, err) = CliRunner.Run("boot", "--cpu", "spr", "--kernel", "6.17", "--format", "json");
        Assert.True(code == 0, err);
        var sys = FpuSystem.Boot(CpuCatalog.Get("spr"), KernelVariants.V6_17);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal("6.17", r.GetProperty("kernel").GetString());
        Assert.Equal(sys.Dmesg, r.GetProperty("dmesg").EnumerateArray().Select(x => x.GetString()!).ToArray());
        Assert.Equal($"0x{sys.KernelCfg.MaxFeatures:x}", r.GetProperty("kernelCfg").GetProperty("maxFeatures").GetString());
        Assert.Equal(sys.KernelCfg.DefaultSize, r.GetProperty("kernelCfg").GetProperty("defaultSize").GetInt32());
        Assert.Equal(sys.UserCfg.MaxSize, r.GetProperty("userCfg").GetProperty("maxSize").GetInt32());
        Assert.Equal($"0x{sys.UserCfg.DefaultFeatures:x}", r.GetProperty("userCfg").GetProperty("defaultFeatures").GetString());
        Assert.Equal(sys.GuestDefaultCfg.Size, r.GetProperty("guestDefaultCfg").GetProperty("size").GetInt32());
        Assert.Equal($"0x{sys.Xcr0:x}", r.GetProperty("xcr0").GetString());
        Assert.Equal($"0x{sys.Xss:x}", r.GetProperty("xss").GetString());
    }

    [Theory]
    [InlineData("zen2-matisse")]
    [InlineData("zen1")]
    [InlineData("haswell")]
    public void Decisions_off_the_default_path_are_listed_and_dropped_features_are_warnings(string cpu)
    {
        var sys = FpuSystem.Boot(CpuCatalog.Get(cpu));
        Assert.NotEmpty(sys.Decisions);
        var (code, output, err) = CliRunner.Run("boot", "--cpu", cpu, "--format", "json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var decisions = doc.RootElement.GetProperty("decisions").EnumerateArray().ToList();
        Assert.Equal(sys.Decisions.Count, decisions.Count);
        for (int i = 0; i < decisions.Count; i++)
        {
            Assert.Equal(sys.Decisions[i].Subject, decisions[i].GetProperty("subject").GetString());
            Assert.Equal(sys.Decisions[i].Reason, decisions[i].GetProperty("reason").GetString());
            Assert.Equal(sys.Decisions[i].Function, decisions[i].GetProperty("function").GetString());
        }
        var warnings = doc.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Equal(sys.Decisions.Count(d => d.Dropped) + sys.Warnings.Count, warnings.Count);
        foreach (var d in sys.Decisions.Where(d => d.Dropped))
            Assert.Contains(warnings, w => w.Contains(d.Subject, StringComparison.Ordinal) && w.Contains(d.Reason, StringComparison.Ordinal));

        var text = CliRunner.Run("boot", "--cpu", cpu);
        Assert.Contains("Boot decisions", text.Out, StringComparison.Ordinal);
        var flat = Regex.Replace(text.Out, @"\s+", " ");
        foreach (var d in sys.Decisions)
            Assert.Contains($"{d.Subject} {d.Outcome}", flat, StringComparison.Ordinal);
    }

    /// <summary><c>struct vcpu_fpu_config guest_default_cfg</c> arrived with 7bc4ed75f2d6 (6.17): earlier kernels print no
    /// row for it and the JSON has no value.</summary>
    [Theory]
    [InlineData("6.15", false)]
    [InlineData("6.16", false)]
    [InlineData("6.17", true)]
    public void Guest_default_cfg_appears_only_in_kernels_that_have_it(string kernel, bool has)
    {
        var (code, output, err) = CliRunner.Run("boot", "--cpu", "spr", "--kernel", kernel);
        Assert.True(code == 0, err);
        Assert.Equal(has, output.Contains("guest_default_cfg", StringComparison.Ordinal));
        (code, output, err) = CliRunner.Run("boot", "--cpu", "spr", "--kernel", kernel, "--format", "json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(has ? JsonValueKind.Object : JsonValueKind.Null, doc.RootElement.GetProperty("guestDefaultCfg").ValueKind);
    }

    [Fact]
    public void Unknown_variant_is_bad_input()
    {
        var (code, output, err) = CliRunner.Run("boot", "--cpu", "spr", "--kernel", "6.99");
        Assert.Equal(2, code);
        Assert.Contains("--kernel", err);
        Assert.Equal("", output);
    }
}

public class BootCommandHostTests
{
    [SkippableFact]
    public void Boot_host_prints_exactly_the_x86_fpu_lines_of_this_kernel()
    {
        Skip.IfNot(XsaveLab.Host.Linux.KernelLog.TryReadFpuLines(out var lines, out var why), why);
        Skip.IfNot(XsaveLab.Host.Cpu.HostCpu.TryRead(out _, out var whyCpu), whyCpu);
        var r = CliRunner.Run("boot", "--host", "--kernel", "6.17", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(r.Out);
        var model = doc.RootElement.GetProperty("dmesg").EnumerateArray().Select(x => x.GetString()!)
            .Where(l => l.StartsWith("x86/fpu:", StringComparison.Ordinal)).ToArray();
        Assert.Equal(lines, model);
    }
}
