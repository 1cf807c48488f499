using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Cli.Commands.Sim;
using XsaveLab.Host.Cpu;
using XsaveLab.Sim.Cost;
using XsaveLab.Sim.Experiment;
using XsaveLab.Sim.Measure;

namespace XsaveLab.Cli.Commands;

/// <summary><c>calibrate</c>: fits the cost model on this machine by timing native XSAVE/XSAVEC/XSAVEOPT/XRSTOR
/// over sweeps of component mixes (<see cref="Calibrator"/>, <see cref="NativeXsaveTimer"/>), checks it on
/// held-out mixes and, unless told not to, splits a real ping-pong into the fixed per-switch part.</summary>
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
            OutputFile.Check("--output", parse.GetValue(output));
            if (NativeXsaveTimer.Unavailable() is { } why)
            {
                ctx.Err.WriteLine($"error: cannot time XSAVE here: {why}");
                return 1;
            }
            var (cal, measured) = SimProgress.Run(ctx, "calibration", p =>
            {
                using var timer = new NativeXsaveTimer();
                var c = Calibrator.Run(timer, null, p is null ? null : new Relay(f => p.Report(("timing native XSAVE/XRSTOR mixes", f))));
                ContextSwitchMeasurement? m = null;
                if (!parse.GetValue(noMeasure))
                {
                    var mo = new ContextSwitchOptions { Mode = PingPongMode.Threads, State = VectorState.Init };
                    if (ContextSwitchMeter.Unavailable(mo) is null)
                        m = ContextSwitchMeter.Measure(mo, p is null ? null : new Relay(f => p.Report(("measuring the fixed per-switch part", f))));
                }
                return (c, m);
            });
            var parameters = cal.Parameters;
            if (measured is not null && HostCpu.TryRead(out var host, out _)
                && CetSExperiment.FixedPartNs(new CostModel(parameters), measured, host!) is { } split)
                parameters = parameters with { SwitchFixedNs = split.FixedNs, SwitchSpreadPct = measured.SpreadPct, MeasuredSwitchesPerSecond = measured.Median };
            if (parse.GetValue(output) is { } file)
            {
                OutputFile.Write("--output", file, parameters.SaveTo);
            }
            if (FormatOption.Get(parse, format) == OutputFormat.Json)
            {
                Json.Write(ctx.Out, new
                {
                    parameters,
                    heldOut = cal.HeldOut.Select(h => new { instr = CostModel.Key(h.Instr), rfbm = Json.Hex(h.Mix.Rfbm), inUse = Json.Hex(h.Mix.InUse), measuredNs = h.MeasuredNs, predictedNs = h.PredictedNs, errorPct = h.ErrorPct }),
                    maxHeldOutErrorPct = cal.MaxAbsErrorPct(),
                    seed = cal.Seed,
                });
                return 0;
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
            console.WriteLine($"held-out save+restore pairs: worst error {cal.MaxAbsErrorPct():F1} % (model accuracy target: 15 %)");
            if (parameters.SwitchFixedNs is { } fx)
                console.WriteLine($"fixed per-switch part {fx:F0} ns from a real ping-pong of {parameters.MeasuredSwitchesPerSecond:N0} switches/s (spread {parameters.SwitchSpreadPct:F2} %)");
            console.WriteLine(CostModel.XsavesEstimateText);
            if (parse.GetValue(output) is { } written)
                console.WriteLine($"parameters written to {written}");
            return 0;
        });
        return cmd;
    }

    private static string N(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    private sealed class Relay(Action<double> a) : IProgress<double>
    {
        public void Report(double value) => a(value);
    }
}
