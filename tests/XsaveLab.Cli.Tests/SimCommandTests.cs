namespace XsaveLab.Cli.Tests;

/// <summary>The simulator commands: experiment cet-s, calibrate's parameter files, bench sim, report --html.</summary>
public sealed class SimCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-sim-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A parameter file fitted on a linear synthetic "machine" (no timing involved).</summary>
    private string CostModelFile()
    {
        var p = Calibrator.Run(new LinearTimer()).Parameters with { SwitchFixedNs = 1800 };
        var path = Path.Combine(_dir, "cost.json");
        File.WriteAllText(path, p.ToJson());
        return path;
    }

    [Fact]
    public void Experiment_json_has_the_issue_keys_and_values_from_the_model()
    {
        var r = CliRunner.Run("experiment", "cet-s", "--cpu", "zen5-turin", "--no-measure", "--cost-model", CostModelFile(), "--tasks", "10", "--vcpus", "2", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        Assert.Equal("zen5-turin", root.GetProperty("cpu").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("measured").ValueKind);
        var names = root.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToList();
        Assert.Equal(["6.16", "6.17", "case3", "deferred"], names);
        var boot = XsaveLab.Kernel.Boot.FpuSystem.Boot(CpuCatalog.Get("zen5-turin"), XsaveLab.Kernel.Variants.KernelVariants.V6_17);
        foreach (var v in root.GetProperty("variants").EnumerateArray())
        {
            foreach (var key in new[] { "taskFpstateBytes", "vcpuFpstateBytes", "savedBytesPerSwitch", "predictedNsPerSwitch", "predictedThroughputDeltaPct" })
                Assert.True(v.TryGetProperty(key, out var x) && x.ValueKind == JsonValueKind.Number, $"{key} in {v}");
            if (v.GetProperty("name").GetString() == "6.17")
            {
                Assert.Equal(boot.KernelCfg.DefaultSize, v.GetProperty("taskFpstateBytes").GetInt32());
                Assert.Equal(boot.GuestDefaultCfg.Size, v.GetProperty("vcpuFpstateBytes").GetInt32());
            }
        }
        Assert.Equal(2, root.GetProperty("claims").GetArrayLength());
        Assert.Equal(CpuCatalog.Entries.Count, root.GetProperty("sweep").GetArrayLength());
    }

    [Fact]
    public void Experiment_text_states_both_claims()
    {
        var r = CliRunner.Run("experiment", "cet-s", "--cpu", "tgl", "--no-measure", "--cost-model", CostModelFile());
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("CONFIRMED", r.Out);
        Assert.Contains("saves 24B", r.Out);
        Assert.Contains("catalog sweep", r.Out);
    }

    [Fact]
    public void Bad_cost_model_file_names_the_file_and_the_field()
    {
        var good = File.ReadAllText(CostModelFile());
        var bad = Path.Combine(_dir, "bad.json");
        File.WriteAllText(bad, good.Replace("\"format\": \"xsavelab-cost-model/1\"", "\"format\": \"other/9\""));
        var msg = CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--cost-model", bad));
        Assert.Contains("bad.json", msg);
        Assert.Contains("format", msg);
        var broken = Path.Combine(_dir, "broken.json");
        File.WriteAllText(broken, "{ \"format\": ");
        Assert.Contains("broken.json", CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--cost-model", broken)));
        Assert.Contains("missing.json", CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--cost-model", Path.Combine(_dir, "missing.json"))));
    }

    [Fact]
    public void Experiment_and_report_print_the_same_bytes_every_time()
    {
        string[][] commands =
        [
            ["experiment", "cet-s", "--cpu", "spr", "--no-measure", "--format", "json"],
            ["report", "--cpu", "spr", "--format", "json"],
        ];
        foreach (var args in commands)
        {
            var a = CliRunner.Run(args);
            var b = CliRunner.Run(args);
            Assert.True(a.ExitCode == 0, a.ToString());
            Assert.Equal(a.Out, b.Out);
            Assert.Contains("shipped reference model", a.Out);
        }
    }

    [Fact]
    public void A_nan_in_a_cost_model_is_one_error_naming_file_and_field()
    {
        var bad = Path.Combine(_dir, "nan.json");
        File.WriteAllText(bad, File.ReadAllText(CostModelFile()).Replace("\"switchFixedNs\": 1800", "\"switchFixedNs\": \"NaN\""));
        var msg = CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--cost-model", bad));
        Assert.Contains("nan.json: switchFixedNs:", msg);
    }

    [Theory]
    [InlineData("--runs", "3", "--no-measure")]
    [InlineData("--calibrate", "--cost-model", "x.json")]
    public void Options_that_would_be_ignored_are_contradictions(params string[] options)
    {
        var msg = CliRunner.OneError(CliRunner.Run(["experiment", "cet-s", "--cpu", "spr", .. options]));
        Assert.Contains(options[0], msg);
        Assert.Contains("contradicts", msg);
    }

    [Fact]
    public void Runs_for_a_cpu_that_is_not_measured_is_refused()
    {
        var msg = CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--runs", "3"));
        Assert.Contains("--runs", msg);
    }

    [Fact]
    public void A_cpu_without_xsave_answers_without_calibrating()
    {
        var r = CliRunner.Run("experiment", "cet-s", "--cpu", "nehalem", "--calibrate", "--no-measure", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.StartsWith("shipped reference model", doc.RootElement.GetProperty("costModel").GetString());
        Assert.Contains(doc.RootElement.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("no XSAVE"));
    }

    [Fact]
    public void Measure_reports_its_quality_warnings_with_the_quiet_run_advice()
    {
        var r = CliRunner.Run("measure", "context-switch", "--mode", "threads", "--vectors", "asis", "--runs", "2", "--seconds", "0.05", "--format", "json");
        if (r.ExitCode == 1 && r.Err.Contains("nothing can be measured"))
            return; // not Linux on x86-64: there is nothing to judge
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var warnings = doc.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        // Whether this machine is busy is not for a test to decide; what is printed for it is.
        Assert.Equal(warnings.Count, r.Err.Split('\n').Count(l => l.StartsWith("warning: ", StringComparison.Ordinal)));
        if (warnings.Count > 0)
            Assert.Equal(XsaveLab.Sim.Measure.MeasurementQuality.QuietRunAdvice, warnings[^1]);
    }

    [Fact]
    public void Calibrate_refuses_an_unwritable_output_before_timing_anything()
    {
        foreach (var bad in new[] { Path.Combine(_dir, "no", "such", "p.json"), _dir })
        {
            var msg = CliRunner.OneError(CliRunner.Run("calibrate", "-o", bad));
            Assert.Contains("--output", msg);
        }
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData("--tasks", "-1")]
    [InlineData("--vcpus", "2000000")]
    [InlineData("--runs", "0")]
    public void Out_of_range_numbers_are_one_error(string option, string value)
    {
        var msg = CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", option, value));
        Assert.Contains(option, msg);
    }

    [Fact]
    public void Html_goes_to_the_file_and_nothing_is_half_written_on_a_bad_path()
    {
        var file = Path.Combine(_dir, "r.html");
        var r = CliRunner.Run("experiment", "cet-s", "--cpu", "adl", "--no-measure", "--cost-model", CostModelFile(), "--html", file);
        Assert.True(r.ExitCode == 0, r.ToString());
        var html = File.ReadAllText(file);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("svg class=\"bytemap\"", html);
        var badDir = Path.Combine(_dir, "no", "such", "dir", "r.html");
        var msg = CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "adl", "--no-measure", "--cost-model", CostModelFile(), "--html", badDir));
        Assert.Contains("--html", msg);
        Assert.False(File.Exists(badDir));
    }

    [Fact]
    public void Bench_sim_json_has_speed_and_memory()
    {
        var r = CliRunner.Run("bench", "sim", "--cpu", "zen4-genoa", "--tasks", "2000", "--switches", "20000", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.True(doc.RootElement.GetProperty("simulatedSwitchesPerSecond").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("bytesPerTask").GetDouble() > 0);
    }

    [Fact]
    public void Bench_sim_refuses_a_cpu_without_xsave()
    {
        Assert.Contains("no XSAVE", CliRunner.OneError(CliRunner.Run("bench", "sim", "--cpu", "nehalem")));
    }

    private sealed class LinearTimer : IXsaveTimer
    {
        public string Machine => "linear";
        public string CpuSignature => "0x0";
        public ulong Xcr0 => XFeatureMasks.FpSse | XFeatureMasks.Ymm | XFeatureMasks.Avx512;
        public ComponentBytes Bytes { get; } = new(new Dictionary<int, int> { [2] = 256, [5] = 64, [6] = 512, [7] = 1024 });
        public bool Supports(SaveInstruction instr) => instr != SaveInstruction.Xsaves;
        public double SaveNs(SaveInstruction instr, ulong rfbm, ulong inUse) { var c = CostModel.SaveCounts(instr, rfbm, inUse, Bytes); return 20 + c.Requested + 3 * c.Moved + 0.02 * c.Bytes; }
        public double RestoreNs(ulong rfbm, ulong inUse) { var c = CostModel.RestoreCounts(rfbm, inUse, Bytes, false); return 25 + 2 * c.Requested + 3 * c.Moved + 0.025 * c.Bytes; }
        public double PairNs(SaveInstruction instr, ulong rfbm, ulong inUse) => SaveNs(instr, rfbm, inUse) + RestoreNs(rfbm, inUse);
    }
}
