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

        // Without --only every observable is listed, so the counts are the tally of the list.
        var counts = doc.RootElement.GetProperty("counts");
        Assert.Equal(obs.Count, counts.GetProperty("total").GetInt32());
        foreach (var s in statuses)
            Assert.Equal(obs.Count(o => o.GetProperty("status").GetString() == s), counts.GetProperty(s).GetInt32());
        Assert.Empty(doc.RootElement.GetProperty("only").EnumerateArray());
    }

    /// <summary>Each status filter keeps exactly the observables of that status, and the counts still cover the whole
    /// run (both from one run: a second run on a loaded machine need not give the same statuses).</summary>
    [SkippableTheory]
    [InlineData("match")]
    [InlineData("mismatch")]
    [InlineData("explained")]
    [InlineData("skipped")]
    public void Only_keeps_the_observables_of_one_status_and_the_counts_of_all(string status)
    {
        Skip.IfNot(OperatingSystem.IsLinux() && X86Base.X64.IsSupported, "host check compares with a running Linux kernel on x86-64");
        var (exit, stdout, stderr) = CliRunner.Run("host", "check", "--format", "json", "--cases", "5", "--only", status);
        Assert.True(stderr.Length == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var obs = doc.RootElement.GetProperty("observables").EnumerateArray().ToList();
        var counts = doc.RootElement.GetProperty("counts");
        Assert.All(obs, o => Assert.Equal(status, o.GetProperty("status").GetString()));
        Assert.Equal(counts.GetProperty(status).GetInt32(), obs.Count);
        int total = counts.GetProperty("total").GetInt32();
        Assert.Equal(total, new[] { "match", "mismatch", "explained", "skipped" }.Sum(s => counts.GetProperty(s).GetInt32()));
        Assert.Equal([status], doc.RootElement.GetProperty("only").EnumerateArray().Select(e => e.GetString()!));
        // The exit code follows the whole run, not the rows shown.
        Assert.Equal(counts.GetProperty("mismatch").GetInt32() > 0 ? 1 : 0, exit);
    }

    [SkippableFact]
    public void Text_starts_with_the_counts_and_shows_only_the_chosen_statuses()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && X86Base.X64.IsSupported, "host check compares with a running Linux kernel on x86-64");
        var r = CliRunner.Run("host", "check", "--cases", "5", "--only", "explained", "--only", "skipped");
        Assert.True(r.Err.Length == 0, r.ToString());
        var first = r.Out.Split('\n')[0];
        var m = Regex.Match(first, @"^(\d+) observables: (\d+) match, (\d+) mismatch, (\d+) explained, (\d+) skipped; showing (\d+) \(explained, skipped\)$");
        Assert.True(m.Success, r.ToString());
        int N(int g) => int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        Assert.Equal(N(1), N(2) + N(3) + N(4) + N(5));
        Assert.Equal(N(4) + N(5), N(6));
        // Table rows start with the status word in the last column; no row of another status is shown.
        Assert.DoesNotContain("│ match ", r.Out);
        Assert.DoesNotContain("│ mismatch ", r.Out);
    }

    [Fact]
    public void Unknown_status_names_the_option_and_the_choices()
    {
        string error = CliRunner.OneError(CliRunner.Run("host", "check", "--only", "failed"));
        Assert.Contains("--only", error);
        Assert.Contains("'failed'", error);
        Assert.Contains("match, mismatch, explained, skipped", error);
    }

    [Fact]
    public void Negative_case_count_is_bad_input()
    {
        var (exit, _, stderr) = CliRunner.Run("host", "check", "--cases", "-1");
        Assert.Equal(2, exit);
        Assert.StartsWith("error:", stderr);
    }
}
