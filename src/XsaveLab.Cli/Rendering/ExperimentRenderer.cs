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
        console.WriteLine($"CPU {r.Cpu} ({r.CpuSource}); memory figures for {Numbers.Int(r.Tasks)} threads + {Numbers.Int(r.Vcpus)} vCPUs.");
        console.WriteLine($"cost model: {r.CostModel ?? "none"}");
        if (r.Measured is { } m)
            console.MarkupLine($"measured here: [bold]{Numbers.Real(m.SwitchesPerSecond, 0)}[/] switches/s " +
                $"(median of {m.Runs} runs, {Markup.Escape(m.Mode)}, vectors {Markup.Escape(m.VectorState)}), run-to-run spread [bold]{Numbers.Real(m.RunToRunSpreadPct, 2)} %[/]");
        else
            console.WriteLine($"not measured here: the series' reported run-to-run variation ({CetSExperiment.ReportedVariationPct:F1} %) is used for comparison");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"verdicts: a change ± 2σ wholly inside ±{r.VariationThresholdPct:0.###} % is within the variation, wholly outside is not, straddling is inconclusive"));
        if (r.SwitchFixedNs is { } f)
            console.WriteLine($"fixed per-switch part (scheduler, pipes, syscalls): {f:F0} ns");

        var t = new TextTable("variant", "case", "task\nfpstate B", "vCPU\nfpstate B", "XSS[12]", "task\nRFBM[12]", "saved\nB/switch", "restored\nB/switch",
                "vCPU saved/\nrestored B", "predicted\nns/switch", "throughput Δ\nvs case 1 (1σ)", "fpstate\nmemory")
            .AlignRight(2, 3, 6, 7, 8, 9, 10, 11).Title("context_switch1 under each kernel variant");
        foreach (var v in r.Variants)
            t.AddRow(v.Name, v.Case, Numbers.Int(v.TaskFpstateBytes), Numbers.Int(v.VcpuFpstateBytes),
                v.XssCetS ? "1" : "0", v.TaskRfbmCetS ? "1" : "0",
                Numbers.Real(v.SavedBytesPerSwitch, 1), Numbers.Real(v.RestoredBytesPerSwitch, 1),
                $"{Numbers.Real(v.VcpuSavedBytesPerSwitch, 1)}/{Numbers.Real(v.VcpuRestoredBytesPerSwitch, 1)}",
                F(v.PredictedNsPerSwitch, "0.0"),
                v.PredictedThroughputDeltaPct is { } d ? $"{d.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture)} % ± {F(v.PredictedThroughputDeltaUncertaintyPct, "0.000")}{Within(v.WithinVariation)}" : "-",
                Numbers.Binary(v.FpstateMemoryBytes) is { } mem ? $"{Numbers.Int(v.FpstateMemoryBytes)} B ({mem})" : $"{Numbers.Int(v.FpstateMemoryBytes)} B");
        t.Write(console);

        Breakdown(r, console);
        Memory(r, console);

        foreach (var c in r.Claims)
        {
            string colour = c.Verdict switch { ClaimVerdict.Confirmed => "green", ClaimVerdict.NotConfirmed => "red", _ => "yellow" };
            string verdict = $"[{colour}]{c.Label}[/]";
            console.MarkupLine($"{verdict} [italic]\"{Markup.Escape(c.Claim)}\"[/]");
            console.WriteLine($"  {c.Evidence}");
        }

        if (sweep)
        {
            bool slab = r.Sweep.Any(x => x.RealBytesSavedPerTask is not null);
            var s = new TextTable(["CPU", "CET_S", "task B\ncase 2", "task B\ncase 3", "vCPU B\ncase 2", "saving", .. slab ? new[] { "slab B/task\nsaved" } : [], "verdict", "why"])
                .AlignRight(slab ? [2, 3, 4, 5, 6] : [2, 3, 4, 5]).Title(slab ? "catalog sweep: the 24-byte saving per task, and in the task_struct slab" : "catalog sweep: the 24-byte saving per task");
            foreach (var x in r.Sweep)
            {
                var colour = x.Verdict.StartsWith("24", StringComparison.Ordinal) ? Color.Green : x.Verdict.StartsWith("saving 0", StringComparison.Ordinal) ? Color.Yellow : Color.Grey;
                var cells = new List<Cell> { x.Cpu, x.HasCetS ? "yes" : "no", F(x.TaskBytesCase2, "0"), F(x.TaskBytesCase3, "0"), F(x.VcpuBytesCase2, "0"), $"{Numbers.Int(x.SavingBytes)} B" };
                if (slab)
                    cells.Add(x.RealBytesSavedPerTask is { } real ? $"{Numbers.Real(real, 1)} B ({F(x.TaskSlabBytesCase2, "0")}/{F(x.TaskSlabBytesCase3, "0")})" : "-");
                cells.Add(new Cell(x.Verdict, colour));
                cells.Add(x.Why);
                s.AddRow([.. cells]);
            }
            s.Write(console);
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
        var t = new TextTable("variant", "fixed", "save\n(requested,\nmoved, bytes)", "save ns\nbase+req+\ncomp+byte", "restore\n(requested,\nmoved, bytes)",
                "restore ns\nbase+req+\ncomp+byte", "total")
            .AlignRight(1, 2, 3, 4, 5, 6)
            .Title("predicted ns/switch = fixed + save + restore; each = base + per requested·|RFBM| + per component·moved + per byte·bytes");
        foreach (var v in rows)
        {
            var b = v.Breakdown!;
            t.AddRow(v.Name, F(b.FixedNs, "0.0"), Counts(b.Save), Terms(b.Save), Counts(b.Restore), Terms(b.Restore), F(b.TotalNs, "0.0"));
        }
        t.Write(console);
    }

    /// <summary>The task_struct slab object each variant gives a task, the real saving against case 3 and the pages
    /// of the fpstates outside the task_struct.</summary>
    private static void Memory(CetSResult r, IAnsiConsole console)
    {
        var rows = r.Variants.Where(v => v.Memory is not null).ToList();
        if (rows.Count == 0)
            return;
        var t = new TextTable("variant", "object B\n(slab_size)", "objs/slab\n(order)", "B/task", "fpstate B\nsaved", "real B/task\nsaved", "saved per\n10,000 tasks", "vCPU/AMX\npages")
            .AlignRight(1, 2, 3, 4, 5, 6, 7).Title("real memory per task: the task_struct slab object (savings against case 3)");
        foreach (var v in rows)
        {
            var m = v.Memory!;
            t.AddRow(v.Name, $"{Numbers.Int(m.TaskStructObjectBytes)} ({Numbers.Int(m.TaskStructSlabBytes)})", $"{m.ObjectsPerSlab} ({m.SlabOrder})",
                Numbers.Real(m.BytesPerTask, 1), Numbers.Int(m.FpstateBytesSavedPerTask), Numbers.Real(m.RealBytesSavedPerTask, 1),
                Numbers.Int(m.RealBytesSavedPer10000Tasks), $"{m.VcpuFpstatePages}/{(m.AmxFpstatePages is { } a ? a.ToString(CultureInfo.InvariantCulture) : "-")}");
        }
        t.Write(console);
        if (r.MemoryBasis is { } basis)
            console.WriteLine(basis);
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
        string.Create(CultureInfo.InvariantCulture, $"{x.BaseNs:0.00} + {x.RequestedNs:0.00} + {x.ComponentNs:0.00} + {x.ByteNs:0.00} = {x.TotalNs:0.00}");
}
