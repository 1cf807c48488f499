using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

/// <summary>One measured configuration: switches/s (median over runs) and the run-to-run spread.</summary>
public sealed record MeasurementJson(
    string Mode, string Vectors, int Cpu, string? Xinuse, double SwitchesPerSecond, double RunToRunSpreadPct, double RelativeStdDevPct,
    IReadOnlyList<double> Runs);

public sealed record MeasureJson(IReadOnlyList<MeasurementJson> Measurements, IReadOnlyList<string> Skipped, IReadOnlyList<string> Warnings);

/// <summary><c>measure context-switch</c>: one row per measured configuration, what could not be measured, and
/// warnings (a wide spread, a busy machine) on stderr.</summary>
public sealed class MeasureRenderer : IRenderer<ContextSwitchSuiteResult>
{
    public object ToJson(ContextSwitchSuiteResult r) => new MeasureJson([.. r.Measurements.Select(ToJson)], r.Skipped, r.Warnings);

    public IEnumerable<string> Warnings(ContextSwitchSuiteResult r) => r.Warnings;

    public void RenderText(IAnsiConsole console, ContextSwitchSuiteResult r)
    {
        var t = new TextTable("mode", "vectors", "XINUSE while\nswitching", "median\nswitches/s", "spread", "rel. std\ndev", "runs (switches/s)")
            .AlignRight(3, 4, 5);
        foreach (var m in r.Measurements)
            t.AddRow(ContextSwitchSuite.Name(m.Mode), ContextSwitchSuite.Name(m.State),
                m.XinUseMeasuring is { } x ? Json.Hex(x) : "-",
                Numbers.Real(m.Median, 0), $"{Numbers.Real(m.SpreadPct, 2)} %", $"{Numbers.Real(m.RelativeStdDevPct, 2)} %",
                string.Join(" ", m.SwitchesPerSecond.Select(v => Numbers.Real(v, 0))));
        t.Write(console);
        console.WriteLine($"Two switches per round trip; both sides pinned to CPU {r.Measurements[0].Cpu}; spread = (max - min) / median (reliable up to {MeasurementQuality.MaxSpreadPct:F0} %).");
        foreach (var sk in r.Skipped)
            console.WriteLine($"not measured: {sk}");
    }

    private static MeasurementJson ToJson(ContextSwitchMeasurement m) => new(
        ContextSwitchSuite.Name(m.Mode), ContextSwitchSuite.Name(m.State), m.Cpu, m.XinUseMeasuring is { } x ? Json.Hex(x) : null,
        m.Median, m.SpreadPct, m.RelativeStdDevPct, m.SwitchesPerSecond);
}
