using XsaveLab.Sim.Cost;
using Xunit.Abstractions;

namespace XsaveLab.Sim.Tests.Cost;

/// <summary>Model accuracy on this machine (a check of the fitted model, not a speed assertion): medians of
/// repeated native loops.</summary>
[Collection(TimingCollection.Name)]
public class NativeCalibrationTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Calibrated_model_predicts_held_out_native_save_restore_pairs_within_15_percent()
    {
        var why = NativeXsaveTimer.Unavailable();
        Skip.If(why is not null, why);
        using var timer = new NativeXsaveTimer();
        var r = Calibrator.Run(timer);
        foreach (var h in r.HeldOut)
            output.WriteLine($"{h.Instr,-9} {h.Mix}: measured {h.MeasuredNs,7:F1} ns predicted {h.PredictedNs,7:F1} ns ({h.ErrorPct:+0.0;-0.0} %)");
        output.WriteLine(r.Parameters.ToJson());
        Assert.NotEmpty(r.HeldOut);
        double worst = r.MaxAbsErrorPct();
        Assert.True(worst < 15, $"worst held-out error {worst:F1} % (seed {r.Seed})");
    }
}
