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
                throw new NotAvailableException($"cannot time XSAVE here: {why}");
            var report = SimProgress.Run(ctx, "calibration", p => CalibrationSession.Run(!parse.GetValue(noMeasure), p));
            if (file is not null)
                OutputFile.WriteText("--output", file, report.Parameters.ToJson());
            return ctx.Render(FormatOption.Get(parse, format), report, new CalibrateRenderer(file));
        });
        return cmd;
    }
}
