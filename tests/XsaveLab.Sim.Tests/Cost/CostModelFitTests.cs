namespace XsaveLab.Sim.Tests.Cost;

public class CostModelFitTests
{
    // Zen-4/5-like sizes; the fit must not depend on which machine the numbers come from.
    private static readonly ComponentBytes Sizes = new(new Dictionary<int, int> { [2] = 256, [5] = 64, [6] = 512, [7] = 1024 });
    private const ulong Xcr0 = XFeatureMasks.FpSse | XFeatureMasks.Ymm | XFeatureMasks.Avx512;

    [Fact]
    public void Noise_free_sweep_recovers_the_generating_costs()
    {
        var t = new SyntheticTimer(Sizes, Xcr0, 0, 1);
        var r = Calibrator.Run(t);
        var c = r.Parameters.Save["xsavec"].Cost;
        Assert.Equal(t.Xsavec.PerByte, c.PerByte, 4);
        Assert.Equal(t.Xsavec.PerComponent, c.PerComponent, 3);
        Assert.Equal(t.Restore.PerByte, r.Parameters.Restore.Cost.PerByte, 4);
        Assert.Equal(t.Overlap, r.Parameters.PairOverlapNs["xsavec"], 3);
        Assert.True(r.MaxAbsErrorPct() < 1e-6, $"held-out error {r.MaxAbsErrorPct()} %");
    }

    [Fact]
    public void Held_out_mixes_are_not_trained_on()
    {
        var r = Calibrator.Run(new SyntheticTimer(Sizes, Xcr0, 2, 7));
        Assert.NotEmpty(r.HeldOut);
        Assert.DoesNotContain(r.HeldOut, h => r.TrainingMixes.Contains(h.Mix));
        Assert.True(r.MaxAbsErrorPct() < 10, $"2 % noise gave {r.MaxAbsErrorPct():F1} % held-out error");
    }

    [Fact]
    public void Identical_work_has_zero_difference_and_zero_uncertainty()
    {
        var m = new CostModel(Calibrator.Run(new SyntheticTimer(Sizes, Xcr0, 3, 3)).Parameters);
        var s = CostModel.SaveCounts(SaveInstruction.Xsaves, Xcr0, Xcr0, Sizes);
        var rr = CostModel.RestoreCounts(Xcr0, Xcr0, Sizes, true);
        var (mean, sd) = m.SwitchDifferenceNs(SaveInstruction.Xsaves, (s, rr), (s, rr));
        Assert.Equal(0, mean);
        Assert.Equal(0, sd);
    }

    [Fact]
    public void Parameters_round_trip_through_json()
    {
        var p = Calibrator.Run(new SyntheticTimer(Sizes, Xcr0, 1, 5)).Parameters with { SwitchFixedNs = 1234.5 };
        var back = CostModelParameters.FromJson(p.ToJson(), "mem.json");
        Assert.Equal(p.Save["xsave"].Cost, back.Save["xsave"].Cost);
        Assert.Equal(1234.5, back.SwitchFixedNs);
    }

    [Fact]
    public void Bad_parameter_file_names_file_and_field()
    {
        var p = Calibrator.Run(new SyntheticTimer(Sizes, Xcr0, 0, 5)).Parameters;
        var json = p.ToJson().Replace("\"perByte\": ", "\"perByte\": -");
        var e = Assert.Throws<CostModelFormatException>(() => CostModelParameters.FromJson(json, "cm.json"));
        Assert.Equal("cm.json", e.File);
        Assert.Contains("perByte", e.Field);
        var e2 = Assert.Throws<CostModelFormatException>(() => CostModelParameters.FromJson("{ \"format\": 3", "x.json"));
        Assert.Equal("x.json", e2.File);
        var e3 = Assert.Throws<CostModelFormatException>(() => CostModelParameters.FromJson("hello\n", "y.json"));
        Assert.Equal("line 1", e3.Field);
        Assert.DoesNotContain("LineNumber", e3.Message);
        Assert.StartsWith("y.json: line 1: not a cost-model file: ", e3.Message);
    }

    [Fact]
    public void Init_optimisation_counts_only_components_in_use()
    {
        var c = CostModel.SaveCounts(SaveInstruction.Xsavec, Xcr0, XFeatureMasks.FpSse, Sizes);
        Assert.Equal(2, c.Moved);
        Assert.Equal(160 + 264 + 16, c.Bytes);
        var s = CostModel.SaveCounts(SaveInstruction.Xsave, Xcr0, XFeatureMasks.FpSse, Sizes);
        Assert.Equal(6, s.Moved);
    }
}
