using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

/// <summary>One held-out save+restore pair: measured natively, predicted by the model fitted without it.</summary>
public sealed record HeldOutJson(string Instr, string Rfbm, string InUse, double MeasuredNs, double PredictedNs, double ErrorPct);

public sealed record CalibrateJson(
    CostModelParameters Parameters, IReadOnlyList<HeldOutJson> HeldOut, double MaxHeldOutErrorPct, int Seed, IReadOnlyList<string> Warnings);

/// <summary><c>calibrate</c>: the fitted parameters, the held-out check and the accuracy figure; warnings (a busy
/// machine, a poor fit) on stderr.</summary>
public sealed class CalibrateRenderer(string? written) : IRenderer<CalibrationReport>
{
    public object ToJson(CalibrationReport report) => new CalibrateJson(
        report.Parameters,
        [.. report.Calibration.HeldOut.Select(h => new HeldOutJson(CostModel.Key(h.Instr), Json.Hex(h.Mix.Rfbm), Json.Hex(h.Mix.InUse), h.MeasuredNs, h.PredictedNs, h.ErrorPct))],
        report.MaxHeldOutErrorPct, report.Calibration.Seed, report.Warnings);

    public IEnumerable<string> Warnings(CalibrationReport report) => report.Warnings;

    public void RenderText(IAnsiConsole console, CalibrationReport report)
    {
        var cal = report.Calibration;
        var parameters = report.Parameters;
        console.WriteLine($"{parameters.Machine} ({parameters.CpuSignature}), XCR0 {parameters.Xcr0}: {cal.TrainingMixes.Count} training mixes, {cal.HeldOut.Count} held-out pairs (seed {cal.Seed})");
        var t = new TextTable("instruction", "base", "per\nrequested", "per\ncomponent", "per byte", "residual", "pair\noverlap")
            .AlignRight(1, 2, 3, 4, 5, 6).Title("fitted ns = base + per-requested·|RFBM| + per-component·|moved| + per-byte·bytes");
        foreach (var (k, f) in parameters.Save.Append(new("xrstor", parameters.Restore)))
            t.AddRow(k, N(f.Cost.Base), N(f.Cost.PerRequested), N(f.Cost.PerComponent), f.Cost.PerByte.ToString("0.#####", CultureInfo.InvariantCulture),
                $"{f.RelativeResidualPct:F1} %", parameters.PairOverlapNs.TryGetValue(k, out var ov) ? N(ov) : "-");
        t.Write(console);
        console.WriteLine($"accuracy: worst held-out save+restore pair error {report.MaxHeldOutErrorPct:F1} % (reliable below {MeasurementQuality.MaxHeldOutErrorPct:F0} %)");
        if (parameters.SwitchFixedNs is { } fx)
            console.WriteLine($"fixed per-switch part {fx:F0} ns from a real ping-pong of {(parameters.MeasuredSwitchesPerSecond is { } sps ? Numbers.Real(sps, 0) : "-")} switches/s (spread {parameters.SwitchSpreadPct:F2} %)");
        console.WriteLine(CostModel.XsavesEstimateText);
        if (written is not null)
            console.WriteLine($"parameters written to {written}");
    }

    private static string N(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
