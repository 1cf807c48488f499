using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Cli.Commands.Sim;
using XsaveLab.Sim.Cost;
using XsaveLab.Sim.Measure;

namespace XsaveLab.Cli.Commands;

/// <summary><c>calibrate</c>: fits the cost model on this machine by timing native XSAVE/XSAVEC/XSAVEOPT/XRSTOR
/// over sweeps of component mixes (<see cref="CalibrationSession"/>), checks it on held-out mixes and, unless told
/// not to, splits a real ping-pong into the fixed per-switch part. The held-out error is the calibration's
/// accuracy figure; a busy machine or a poor fit gives warnings, never a failure.</summary>
public static class CalibrateCommand
{
    public static Command Create(CliContext ctx)
    {
        var output = new Option<string>("--output", "-o") { Description = "Write the parameters as JSON to FILE (usable with --cost-model, also on another machine)", HelpName = "FILE" };
        var noMeasure = new Option<bool>("--no-measure") { Description = "Do not measure the fixed per-switch part with a real ping-pong" };
        var format = FormatOption.Create();
        var cmd = new Command("calibrate", "Fit the XSAVE/XRSTOR cost model on this machine (native timing; XSAVES/XRSTORS are estimated from XSAVEC/XRSTOR)");
        cmd.Add(output); cmd.Add(noMeasure); cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(output);
            OutputFile.Check("--output", file); // before minutes of timing, not after
            if (CalibrationSession.Unavailable() is { } why)
            {
                ctx.Err.WriteLine($"error: cannot time XSAVE here: {why}");
                return 1;
            }
            var report = SimProgress.Run(ctx, "calibration", p => CalibrationSession.Run(!parse.GetValue(noMeasure), p));
            if (file is not null)
                OutputFile.Write("--output", file, report.Parameters.SaveTo);
            Render(ctx, report, file, FormatOption.Get(parse, format));
            return 0;
        });
        return cmd;
    }


    private static void Render(CliContext ctx, CalibrationReport report, string? written, OutputFormat format)
    {
        foreach (var w in report.Warnings)
            ctx.Err.WriteLine($"warning: {w}");
        var cal = report.Calibration;
        var parameters = report.Parameters;
        if (format == OutputFormat.Json)
        {
            Json.Write(ctx.Out, new
            {
                parameters,
                heldOut = cal.HeldOut.Select(h => new { instr = CostModel.Key(h.Instr), rfbm = Json.Hex(h.Mix.Rfbm), inUse = Json.Hex(h.Mix.InUse), measuredNs = h.MeasuredNs, predictedNs = h.PredictedNs, errorPct = h.ErrorPct }),
                maxHeldOutErrorPct = report.MaxHeldOutErrorPct,
                seed = cal.Seed,
                warnings = report.Warnings,
            });
            return;
        }
        var console = ctx.CreateConsole();
        console.WriteLine($"{parameters.Machine} ({parameters.CpuSignature}), XCR0 {parameters.Xcr0}: {cal.TrainingMixes.Count} training mixes, {cal.HeldOut.Count} held-out pairs (seed {cal.Seed})");
        var t = new Table().Border(TableBorder.Rounded).Title("fitted ns = base + per-requested·|RFBM| + per-component·|moved| + per-byte·bytes")
            .AddColumn("instruction").AddColumn(new TableColumn("base").RightAligned()).AddColumn(new TableColumn("per requested").RightAligned())
            .AddColumn(new TableColumn("per component").RightAligned()).AddColumn(new TableColumn("per byte").RightAligned())
            .AddColumn(new TableColumn("residual").RightAligned()).AddColumn(new TableColumn("pair overlap").RightAligned());
        foreach (var (k, f) in parameters.Save.Append(new("xrstor", parameters.Restore)))
            t.AddRow(k, N(f.Cost.Base), N(f.Cost.PerRequested), N(f.Cost.PerComponent), f.Cost.PerByte.ToString("0.#####", CultureInfo.InvariantCulture),
                $"{f.RelativeResidualPct:F1} %", parameters.PairOverlapNs.TryGetValue(k, out var ov) ? N(ov) : "-");
        console.Write(t);
        console.WriteLine($"accuracy: worst held-out save+restore pair error {report.MaxHeldOutErrorPct:F1} % (reliable below {MeasurementQuality.MaxHeldOutErrorPct:F0} %)");
        if (parameters.SwitchFixedNs is { } fx)
            console.WriteLine($"fixed per-switch part {fx:F0} ns from a real ping-pong of {parameters.MeasuredSwitchesPerSecond:N0} switches/s (spread {parameters.SwitchSpreadPct:F2} %)");
        console.WriteLine(CostModel.XsavesEstimateText);
        if (written is not null)
            console.WriteLine($"parameters written to {written}");
    }

    private static string N(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
