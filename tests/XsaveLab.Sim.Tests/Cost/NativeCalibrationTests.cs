namespace XsaveLab.Sim.Tests.Cost;

/// <summary>Calibration on this machine produces a usable model. Its accuracy (the held-out error) depends on the
/// machine's load and is a figure printed by <c>calibrate</c>, not asserted here: only what load cannot change is
/// checked — a fit for every timed instruction, finite non-negative coefficients, held-out pairs that were not
/// trained on, and parameters that pass the cost-model file's own validation.</summary>
[Collection(TimingCollection.Name)]
public class NativeCalibrationTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Calibration_on_this_machine_produces_a_complete_valid_model()
    {
        var why = NativeXsaveTimer.Unavailable();
        Skip.If(why is not null, why);
        using var timer = new NativeXsaveTimer(iterations: 500, repetitions: 3);
        var r = Calibrator.Run(timer, new CalibrationOptions { MaxMixes = 27 });
        foreach (var h in r.HeldOut)
            output.WriteLine($"{h.Instr,-9} {h.Mix}: measured {h.MeasuredNs,7:F1} ns predicted {h.PredictedNs,7:F1} ns ({h.ErrorPct:+0.0;-0.0} %)");
        output.WriteLine($"worst held-out error {r.MaxAbsErrorPct():F1} % (a figure, not a check)");

        Assert.NotEmpty(r.HeldOut);
        Assert.DoesNotContain(r.HeldOut, h => r.TrainingMixes.Contains(h.Mix));
        foreach (var instr in new[] { SaveInstruction.Xsave, SaveInstruction.Xsaveopt, SaveInstruction.Xsavec }.Where(timer.Supports))
            Assert.True(r.Parameters.Save.ContainsKey(CostModel.Key(instr)), $"no fit for {instr}");
        Assert.All(r.HeldOut, h => Assert.True(double.IsFinite(h.PredictedNs) && h.MeasuredNs > 0, $"{h.Instr} {h.Mix}"));
        // The file calibrate would write loads back through the validating reader.
        var back = CostModelParameters.FromJson(r.Parameters.ToJson(), "calibrated.json");
        Assert.Equal(r.Parameters.Restore.Cost, back.Restore.Cost);
    }
}
