using System.CommandLine;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Sim.Bench;

namespace XsaveLab.Cli.Commands;

/// <summary><c>bench</c>: how fast the instruction model is next to a plain copy of the same bytes and next to
/// the processor's own instructions, on the host's full user state (<see cref="XsaveBench"/>). The thorough
/// measurement is the BenchmarkDotNet project bench/XsaveLab.Benchmarks; this one finishes in seconds.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext ctx)
    {
        var format = FormatOption.Create();
        var cmd = new Command("bench", "Time the model's XSAVEC/XSAVES/XSAVEOPT pairs against a memory copy and the native instructions");
        cmd.Add(format);
        cmd.Add(BenchSimCommand.Create(ctx));
        cmd.SetAction(parse =>
        {
            BenchReport report;
            try
            {
                using var bench = new XsaveBench();
                report = bench.Run();
            }
            catch (InvalidOperationException e)
            {
                ctx.Err.WriteLine($"error: {e.Message}");
                return 1;
            }
            if (FormatOption.Get(parse, format) == OutputFormat.Json)
            {
                Json.Write(ctx.Out, report);
                return 0;
            }
            var console = ctx.CreateConsole();
            if (!report.Optimized)
                console.WriteLine("warning: built without optimization (Debug); run with -c Release for figures that mean something");
            console.WriteLine($"{report.Cpu}: XCR0 {report.Xcr0}, IA32_XSS {report.Xss}, full user state {report.StateBytes} bytes (compacted)");
            var t = new Table().Border(TableBorder.Rounded)
                .AddColumn("operation")
                .AddColumn(new TableColumn("median ns").RightAligned())
                .AddColumn(new TableColumn("allocated B/op").RightAligned());
            foreach (var r in report.Results)
                t.AddRow(Markup.Escape(r.Name), r.MedianNs.ToString("F1"), r.AllocatedBytes.ToString("F1"));
            console.Write(t);
            console.WriteLine($"model XSAVEC+XRSTOR / copy round trip: {report.Ratios.ModelPairOverCopyRoundTrip:F2}");
            console.WriteLine(report.Ratios.ModelPairOverNativePair is { } n
                ? $"model XSAVEC+XRSTOR / native pair: {n:F2}"
                : $"native pair not measured: {report.NativeSkipped}");
            return 0;
        });
        return cmd;
    }
}
