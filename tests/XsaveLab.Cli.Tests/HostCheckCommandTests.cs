namespace XsaveLab.Cli.Tests;

public class HostCheckCommandTests
{
    [SkippableFact]
    public void Json_lists_every_observable_with_its_status_and_the_exit_code_follows_mismatches()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && X86Base.X64.IsSupported, "host check compares with a running Linux kernel on x86-64");
        var (exit, stdout, stderr) = CliRunner.Run("host", "check", "--format", "json", "--cases", "5");
        Assert.True(stderr.Length == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var obs = doc.RootElement.GetProperty("observables").EnumerateArray().ToList();
        Assert.NotEmpty(obs);
        var statuses = new HashSet<string> { "match", "mismatch", "explained", "skipped" };
        foreach (var o in obs)
        {
            foreach (var key in new[] { "name", "model", "actual", "status", "reason" })
                Assert.Equal(JsonValueKind.String, o.GetProperty(key).ValueKind);
            Assert.Contains(o.GetProperty("status").GetString()!, statuses);
        }
        bool mismatch = obs.Any(o => o.GetProperty("status").GetString() == "mismatch");
        Assert.Equal(mismatch ? 1 : 0, exit);
        Assert.Contains(obs, o => o.GetProperty("name").GetString() == "AT_MINSIGSTKSZ");
    }

    [Fact]
    public void Negative_case_count_is_bad_input()
    {
        var (exit, _, stderr) = CliRunner.Run("host", "check", "--cases", "-1");
        Assert.Equal(2, exit);
        Assert.StartsWith("error:", stderr);
    }
}
