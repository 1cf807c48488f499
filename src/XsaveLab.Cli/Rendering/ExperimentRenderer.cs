using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

/// <summary><c>experiment cet-s</c>: the result itself as JSON, or text (measurement, variants, breakdown, claims,
/// catalog sweep, and where the HTML page went); the experiment's warnings go to stderr. The report's experiment
/// section shows the same text (<see cref="Render"/>).</summary>
public sealed class ExperimentRenderer(string? htmlWritten) : IRenderer<CetSResult>
{
    private static string F(double? v, string fmt) => v is { } x ? x.ToString(fmt, CultureInfo.InvariantCulture) : "-";

    public object ToJson(CetSResult r) => r;

    public IEnumerable<string> Warnings(CetSResult r) => r.Warnings;

    public void RenderText(IAnsiConsole console, CetSResult r)
    {
        Render(r, console);
        if (htmlWritten is not null)
            console.WriteLine($"HTML report written to {htmlWritten}");
    }

    public static void Render(CetSResult r, IAnsiConsole console, bool sweep = true)
    {
        console.WriteLine($"CPU {r.Cpu} ({r.CpuSource}); memory figures for {r.Tasks} threads + {r.Vcpus} vCPUs.");
        console.WriteLine($"cost model: {r.CostModel ?? "none"}");
        if (r.Measured is { } m)
            console.MarkupLine($"measured here: [bold]{m.SwitchesPerSecond.ToString("N0", CultureInfo.InvariantCulture)}[/] switches/s " +
                $"(median of {m.Runs} runs, {Markup.Escape(m.Mode)}, vectors {Markup.Escape(m.VectorState)}), run-to-run spread [bold]{m.RunToRunSpreadPct:F2} %[/]");
        else
            console.WriteLine($"not measured here: the series' reported run-to-run variation ({CetSExperiment.ReportedVariationPct:F1} %) is used for comparison");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"verdicts: a change ± 2σ wholly inside ±{r.VariationThresholdPct:0.###} % is within the variation, wholly outside is not, straddling is inconclusive"));
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
                v.PredictedThroughputDeltaPct is { } d ? $"{d.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture)} % ± {F(v.PredictedThroughputDeltaUncertaintyPct, "0.000")}{Within(v.WithinVariation)}" : "-",
                $"{v.FpstateMemoryBytes.ToString("N0", CultureInfo.InvariantCulture)} B");
        console.Write(t);

        Breakdown(r, console);

        foreach (var c in r.Claims)
        {
            string colour = c.Verdict switch { ClaimVerdict.Confirmed => "green", ClaimVerdict.NotConfirmed => "red", _ => "yellow" };
            string verdict = $"[{colour}]{c.Label}[/]";
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

    /// <summary>Each variant's predicted ns per switch, term by term (per switch: count × coefficient), so the
    /// throughput change can be recomputed by hand.</summary>
    private static void Breakdown(CetSResult r, IAnsiConsole console)
    {
        var rows = r.Variants.Where(v => v.Breakdown is not null).ToList();
        if (rows.Count == 0)
            return;
        var t = new Table().Border(TableBorder.Rounded)
            .Title("predicted ns/switch = fixed + save + restore; each = base + per requested·|RFBM| + per component·moved + per byte·bytes")
            .AddColumn("variant").AddColumn(new TableColumn("fixed").RightAligned())
            .AddColumn(new TableColumn("save\n(requested, moved, bytes)").RightAligned())
            .AddColumn(new TableColumn("save ns\nbase+req+comp+byte").RightAligned())
            .AddColumn(new TableColumn("restore\n(requested, moved, bytes)").RightAligned())
            .AddColumn(new TableColumn("restore ns\nbase+req+comp+byte").RightAligned())
            .AddColumn(new TableColumn("total").RightAligned());
        foreach (var v in rows)
        {
            var b = v.Breakdown!;
            t.AddRow(Markup.Escape(v.Name), F(b.FixedNs, "0.0"), Counts(b.Save), Terms(b.Save), Counts(b.Restore), Terms(b.Restore), F(b.TotalNs, "0.0"));
        }
        console.Write(t);
    }

    /// <summary>Where the variant's ±2σ band lies against the run-to-run threshold.</summary>
    private static string Within(ClaimVerdict? v) => v switch
    {
        ClaimVerdict.Confirmed => " inside",
        ClaimVerdict.NotConfirmed => " outside",
        ClaimVerdict.Inconclusive => " straddles",
        _ => "",
    };

    private static string Counts(TransferBreakdown x) =>
        string.Create(CultureInfo.InvariantCulture, $"{x.Requested:0.##}, {x.Moved:0.##}, {x.Bytes:0.#}");

    private static string Terms(TransferBreakdown x) =>
        string.Create(CultureInfo.InvariantCulture, $"{x.BaseNs:0.00}+{x.RequestedNs:0.00}+{x.ComponentNs:0.00}+{x.ByteNs:0.00} = {x.TotalNs:0.00}");
}
