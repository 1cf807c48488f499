namespace XsaveLab.Cli.Tests;

/// <summary><c>explore</c>: the documented JSON, the exit code of a violation, the written trace replaying through
/// <c>kvm --vmm</c>, and variant files from the command line.</summary>
public class ExploreCommandTests
{
    [Fact]
    public void Kernel_6_15_exits_1_and_its_written_trace_replays_the_failure()
    {
        using var dir = new ScratchDirectory("xsavelab-explore-");
        string trace = Path.Combine(dir.Path, "trace.txt");
        var r = CliRunner.Run("explore", "--kernel", "6.15", "--depth", "1", "-o", trace, "--no-timing", "--format", "json");
        Assert.True(r.ExitCode == 1, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        Assert.Equal("6.15", root.GetProperty("kernel").GetString());
        Assert.Equal(1, root.GetProperty("depth").GetInt32());
        var perDepth = root.GetProperty("statesPerDepth").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(root.GetProperty("states").GetInt64(), perDepth.Sum());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("statesPerSecond").ValueKind);
        var violations = root.GetProperty("violations").EnumerateArray().ToArray();
        var ids = violations.Select(v => v.GetProperty("invariant").GetString()).ToArray();
        Assert.Contains("perm-keeps-supervisor", ids);
        Assert.Contains("guest-perm-covers-guest-state", ids);
        Assert.All(violations, v => Assert.NotEmpty(v.GetProperty("rule").GetString()!));
        Assert.Equal(violations[0].GetProperty("script").GetString(), File.ReadAllText(trace));

        var replay = CliRunner.Run("kvm", "--vmm", trace, "--format", "json");
        Assert.True(replay.ExitCode == 1, replay.ToString()); // an expectation not met
        Assert.Contains(ids[0]!, replay.Out, StringComparison.Ordinal);
        Assert.Contains("\"expectMet\": false", replay.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernel_6_17_exits_0_and_text_shows_states_per_depth()
    {
        var r = CliRunner.Run("explore", "--kernel", "6.17", "--depth", "2", "--vcpus", "1", "--no-timing");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("no invariant violated", r.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("states/s", r.Out, StringComparison.Ordinal);
        Assert.Equal(r.Out, CliRunner.Run("explore", "--kernel", "6.17", "--depth", "2", "--vcpus", "1", "--no-timing").Out);
    }

    [Fact]
    public void A_variant_file_is_explored_and_a_bad_one_is_one_error_naming_the_field()
    {
        using var dir = new ScratchDirectory("xsavelab-variant-");
        string good = dir.Write("design.json", """{ "name": "no-509e880b", "parent": "6.17", "guestState": "kernelDefaults" }""");
        var r = CliRunner.Run("explore", "--kernel", good, "--depth", "1", "--vcpus", "1", "--format", "json");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("guest-fpstate-defaults", r.Out, StringComparison.Ordinal);
        Assert.True(CliRunner.Run("boot", "--cpu", "spr", "--kernel", good).ExitCode == 0);

        string bad = dir.Write("bad.json", """{ "name": "x", "parent": "6.17", "guestPerm": 3 }""");
        foreach (var cmd in new[] { "explore", "boot", "kvm", "report" })
        {
            string line = CliRunner.OneError(CliRunner.Run(cmd, "--cpu", "spr", "--kernel", bad));
            Assert.StartsWith($"error: {bad}: field guestPerm: ", line, StringComparison.Ordinal);
        }
    }
}
