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
        foreach (var cmd in new[] { "explore", "boot", "kvm", "report", "experiment cet-s" })
        {
            string line = CliRunner.OneError(CliRunner.Run([.. cmd.Split(' '), "--cpu", "spr", "--kernel", bad]));
            Assert.StartsWith($"error: {bad}: line 1: field guestPerm: ", line, StringComparison.Ordinal);
        }
    }

    /// <summary>A YAML design goes wherever <c>--kernel</c> goes: explored (its reverted fix caught), booted, run
    /// through a VMM sequence, and shown by <c>experiment cet-s</c> beside the series' cases. A bad YAML file is the
    /// same one error line, naming the line.</summary>
    [Fact]
    public void A_yaml_variant_file_works_for_every_command_and_a_bad_one_names_the_line()
    {
        using var dir = new ScratchDirectory("xsavelab-variant-");
        string good = dir.Write("design.yaml", "# 509e880b7795 reverted\nname: no-509e880b\nparent: \"6.17\"\nguestState: kernelDefaults\n");
        var r = CliRunner.Run("explore", "--kernel", good, "--depth", "1", "--vcpus", "1", "--format", "json");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("guest-fpstate-defaults", r.Out, StringComparison.Ordinal);
        var boot = CliRunner.Run("boot", "--cpu", "spr", "--kernel", good);
        Assert.True(boot.ExitCode == 0, boot.ToString());
        Assert.Contains("no-509e880b", boot.Out, StringComparison.Ordinal);
        var kvm = CliRunner.Run("kvm", "--cpu", "spr", "--kernel", good);
        Assert.True(kvm.ExitCode == 0, kvm.ToString());
        Assert.Contains("no-509e880b", kvm.Out, StringComparison.Ordinal);

        var cets = CliRunner.Run("experiment", "cet-s", "--cpu", "zen5-turin", "--no-measure", "--kernel", good, "--format", "json");
        Assert.True(cets.ExitCode == 0, cets.ToString());
        using var doc = JsonDocument.Parse(cets.Out);
        var rows = doc.RootElement.GetProperty("variants").EnumerateArray().ToArray();
        var design = Assert.Single(rows, v => v.GetProperty("name").GetString() == "no-509e880b");
        Assert.Equal("variant file (parent 6.17)", design.GetProperty("case").GetString());
        // Sized from the host defaults, the design's guest fpstate is the task's; 6.17's holds CET_KERNEL's 24 bytes on
        // Zen 5 (on spr the 64-byte alignment of XTILECFG absorbs them).
        var landed = Assert.Single(rows, v => v.GetProperty("name").GetString() == "6.17");
        Assert.Equal(design.GetProperty("taskFpstateBytes").GetInt32(), design.GetProperty("vcpuFpstateBytes").GetInt32());
        Assert.True(landed.GetProperty("vcpuFpstateBytes").GetInt32() > design.GetProperty("vcpuFpstateBytes").GetInt32());
        // Without --kernel the table is the series' cases only; a built-in variant outside them is added by name.
        var plain = CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--format", "json");
        Assert.DoesNotContain("no-509e880b", plain.Out, StringComparison.Ordinal);
        Assert.Contains("\"--kernel 6.6\"", CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--kernel", "6.6", "--format", "json").Out, StringComparison.Ordinal);

        string bad = dir.Write("bad.yaml", "name: x\nparent: \"6.17\"\nguestPerm: 3\n");
        foreach (var cmd in new[] { "explore", "boot", "kvm", "experiment cet-s" })
        {
            string line = CliRunner.OneError(CliRunner.Run([.. cmd.Split(' '), "--cpu", "spr", "--kernel", bad]));
            Assert.StartsWith($"error: {bad}: line 3: field guestPerm: ", line, StringComparison.Ordinal);
        }
    }
}
