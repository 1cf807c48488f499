using System.Globalization;
using Spectre.Console;
using XsaveLab.Sim.Experiment;

namespace XsaveLab.Cli.Rendering;

/// <summary>Text rendering of the CET-S experiment: measurement, variants, claims, catalog sweep.</summary>
public static class ExperimentRendering
{
    private static string F(double? v, string fmt) => v is { } x ? x.ToString(fmt, CultureInfo.InvariantCulture) : "-";

    public static void Render(CetSResult r, IAnsiConsole console, bool sweep = true)
    {
        console.WriteLine($"CPU {r.Cpu} ({r.CpuSource}); memory figures for {r.Tasks} threads + {r.Vcpus} vCPUs.");
        console.WriteLine($"cost model: {r.CostModel ?? "none"}");
        if (r.Measured is { } m)
            console.MarkupLine($"measured here: [bold]{m.SwitchesPerSecond.ToString("N0", CultureInfo.InvariantCulture)}[/] switches/s " +
                $"(median of {m.Runs} runs, {Markup.Escape(m.Mode)}, vectors {Markup.Escape(m.VectorState)}), run-to-run spread [bold]{m.RunToRunSpreadPct:F2} %[/]");
        else
            console.WriteLine($"not measured here: the series' reported run-to-run variation ({CetSExperiment.ReportedVariationPct:F1} %) is used for comparison");
        if (r.SwitchFixedNs is { } f)
            console.WriteLine($"fixed per-switch part (scheduler, pipes, syscalls): {f:F0} ns");

        var t = new Table().Border(TableBorder.Rounded).Title("context_switch1 under each kernel variant")
            .AddColumn("variant").AddColumn("case")
            .AddColumn(new TableColumn("task\nfpstate B").RightAligned())
            .AddColumn(new TableColumn("vCPU\nfpstate B").RightAligned())
            .AddColumn(new TableColumn("XSS[[12]]").Centered())
            .AddColumn(new TableColumn("task\nRFBM[[12]]").Centered())
            .AddColumn(new TableColumn("saved\nB/switch").RightAligned())
            .AddColumn(new TableColumn("restored\nB/switch").RightAligned())
            .AddColumn(new TableColumn("vCPU saved/\nrestored B").RightAligned())
            .AddColumn(new TableColumn("predicted\nns/switch").RightAligned())
            .AddColumn(new TableColumn("throughput Δ\nvs case 1 (1σ)").RightAligned())
            .AddColumn(new TableColumn("fpstate\nmemory").RightAligned());
        foreach (var v in r.Variants)
            t.AddRow(Markup.Escape(v.Name), Markup.Escape(v.Case), v.TaskFpstateBytes.ToString(CultureInfo.InvariantCulture), v.VcpuFpstateBytes.ToString(CultureInfo.InvariantCulture),
                v.XssCetS ? "1" : "0", v.TaskRfbmCetS ? "1" : "0",
                v.SavedBytesPerSwitch.ToString("0.#", CultureInfo.InvariantCulture), v.RestoredBytesPerSwitch.ToString("0.#", CultureInfo.InvariantCulture),
                $"{v.VcpuSavedBytesPerSwitch:0.#}/{v.VcpuRestoredBytesPerSwitch:0.#}",
                F(v.PredictedNsPerSwitch, "0.0"),
                v.PredictedThroughputDeltaPct is { } d ? $"{d.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture)} % ± {F(v.PredictedThroughputDeltaUncertaintyPct, "0.000")}" : "-",
                $"{v.FpstateMemoryBytes.ToString("N0", CultureInfo.InvariantCulture)} B");
        console.Write(t);

        foreach (var c in r.Claims)
        {
            string verdict = c.Confirmed switch { true => "[green]CONFIRMED[/]", false => "[red]NOT CONFIRMED[/]", null => "[yellow]NOT DECIDED[/]" };
            console.MarkupLine($"{verdict} [italic]\"{Markup.Escape(c.Claim)}\"[/]");
            console.WriteLine($"  {c.Evidence}");
        }

        if (sweep)
        {
            var s = new Table().Border(TableBorder.Rounded).Title("catalog sweep: the 24-byte saving per task")
                .AddColumn("CPU").AddColumn(new TableColumn("CET_S").Centered())
                .AddColumn(new TableColumn("task B\ncase 2").RightAligned()).AddColumn(new TableColumn("task B\ncase 3").RightAligned())
                .AddColumn(new TableColumn("vCPU B\ncase 2").RightAligned()).AddColumn(new TableColumn("saving").RightAligned())
                .AddColumn("verdict").AddColumn("why");
            foreach (var x in r.Sweep)
            {
                string colour = x.Verdict.StartsWith("24", StringComparison.Ordinal) ? "green" : x.Verdict.StartsWith("saving 0", StringComparison.Ordinal) ? "yellow" : "grey";
                s.AddRow(Markup.Escape(x.Cpu), x.HasCetS ? "yes" : "no", F(x.TaskBytesCase2, "0"), F(x.TaskBytesCase3, "0"), F(x.VcpuBytesCase2, "0"),
                    $"{x.SavingBytes} B", $"[{colour}]{Markup.Escape(x.Verdict)}[/]", Markup.Escape(x.Why));
            }
            console.Write(s);
        }
        foreach (var n in r.Notes)
            console.WriteLine($"note: {n}");
    }
}
