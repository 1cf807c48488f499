using static XsaveLab.Sim.Report.Svg;

namespace XsaveLab.Sim.Report;

/// <summary>Renders a <see cref="CetSResult"/> as one self-contained HTML page: inline CSS and SVG, no scripts,
/// no external resources. Byte maps of every variant's task and vCPU fpstate (components coloured and
/// labelled, offsets in each segment's &lt;title&gt; tooltip), charts of the predicted throughput change,
/// of bytes per switch and of the catalog sweep, and the tables.</summary>
public static class HtmlReport
{
    public static string Render(CetSResult r, string? title = null)
    {
        var sb = new StringBuilder(64 * 1024);
        title ??= $"CET supervisor state: the series' experiment on {r.Cpu}";
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append($"<title>{E(title)}</title><style>{Style}</style></head><body>");
        sb.Append($"<h1>{E(title)}</h1>");
        Body(sb, r, 2);
        sb.Append("</body></html>");
        return sb.ToString();
    }

    /// <summary>The experiment without the page around it, its headings at level <paramref name="level"/> (2 on its own
    /// page, 3 inside the whole report): measurement, claims, variants, charts, byte maps, sweep, notes.</summary>
    public static void Body(StringBuilder sb, CetSResult r, int level)
    {
        string h = $"h{level}", h1 = $"h{level + 1}";
        sb.Append($"<p class=\"meta\">CPU <b>{E(r.Cpu)}</b> ({E(r.CpuSource)}); {r.Tasks} threads + {r.Vcpus} vCPUs for the memory figures; cost model: {E(r.CostModel ?? "none")}");
        if (r.SwitchFixedNs is { } f)
            sb.Append($"; fixed per-switch part {N(f)} ns");
        sb.Append(".</p>");
        if (r.Warnings.Count > 0)
        {
            sb.Append("<ul id=\"warnings\">");
            foreach (var w in r.Warnings)
                sb.Append($"<li>warning: {E(w)}</li>");
            sb.Append("</ul>");
        }

        Claims(sb, r, h);
        sb.Append($"<{h}>Variants</{h}>");
        VariantsTable(sb, r);
        if (r.Measured is { } m)
        {
            sb.Append($"<{h}>Measured on this machine</{h}>");
            HtmlTable.Write(sb, "measured", ["mode", "vector state", "runs", "median switches/s", "run-to-run spread", "samples"],
                [[m.Mode, m.VectorState, m.Runs.ToString(CultureInfo.InvariantCulture), m.SwitchesPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                  $"{N(m.RunToRunSpreadPct)} %", string.Join(", ", m.Samples.Select(x => x.ToString("N0", CultureInfo.InvariantCulture)))]],
                new HashSet<int> { 2, 3, 4 });
        }
        Breakdown(sb, r, h);
        sb.Append($"<{h}>Charts</{h}><div class=\"charts\">");
        ThroughputChart(sb, r);
        BytesChart(sb, r);
        sb.Append("</div>");
        sb.Append($"<{h}>fpstate byte maps</{h}><p class=\"hint\">Each map is drawn to scale; a component too narrow for its name carries its key number, and the legend under it lists every component with its offset and size.</p>");
        foreach (var v in r.Variants)
        {
            sb.Append($"<{h1}>{E(v.Name)} — {E(v.Case)}</{h1}>");
            ByteMap.Write(sb, $"task fpstate ({v.TaskFpstateBytes} B, xfeatures {v.TaskLayout.Xfeatures})", v.TaskLayout, $"task-{v.Name}");
            ByteMap.Write(sb, $"vCPU guest fpstate ({v.VcpuFpstateBytes} B, xfeatures {v.VcpuLayout.Xfeatures})", v.VcpuLayout, $"vcpu-{v.Name}");
        }
        sb.Append($"<{h}>Catalog sweep</{h}>");
        SweepChart(sb, r);
        SweepTable(sb, r);
        if (r.Notes.Count > 0)
        {
            sb.Append($"<{h}>Notes</{h}><ul>");
            foreach (var n in r.Notes)
                sb.Append($"<li>{E(n)}</li>");
            sb.Append("</ul>");
        }
    }

    /// <summary>CSS class of a verdict (claim box, table cell): the colour follows the verdict value itself.</summary>
    public static string VerdictClass(ClaimVerdict? v) => v switch
    {
        ClaimVerdict.Confirmed => "ok",
        ClaimVerdict.NotConfirmed => "no",
        _ => "inconclusive",
    };

    private static void Claims(StringBuilder sb, CetSResult r, string h)
    {
        sb.Append($"<{h}>The cover letter's claims</{h}><div id=\"claims\">");
        foreach (var c in r.Claims)
        {
            string cls = VerdictClass(c.Verdict);
            string verdict = c.Label.ToLowerInvariant();
            sb.Append($"<div class=\"claim {cls}\" data-claim=\"{E(c.Id)}\"><div class=\"verdict\">{verdict}</div><blockquote>{E(c.Claim)}</blockquote><p>{E(c.Evidence)}</p></div>");
        }
        sb.Append("</div>");
    }

    private static string Opt(double? v, string fmt, string suffix = "") => v is { } x ? x.ToString(fmt, CultureInfo.InvariantCulture) + suffix : "—";

    private static void VariantsTable(StringBuilder sb, CetSResult r) =>
        HtmlTable.Write(sb, "variants",
            ["variant", "case", "task fpstate B", "vCPU fpstate B", "XSS[12]", "task RFBM[12]", "saved B/switch", "restored B/switch", "vCPU saved B/switch",
             "vCPU restored B/switch", "predicted ns/switch", "throughput Δ vs case 1 (±1σ)", "fpstate memory"],
            r.Variants.Select(v => (IReadOnlyList<HtmlCell>)[
                v.Name, v.Case, v.TaskFpstateBytes.ToString(CultureInfo.InvariantCulture), v.VcpuFpstateBytes.ToString(CultureInfo.InvariantCulture),
                v.XssCetS ? "1" : "0", v.TaskRfbmCetS ? "1" : "0",
                N(v.SavedBytesPerSwitch), N(v.RestoredBytesPerSwitch), N(v.VcpuSavedBytesPerSwitch), N(v.VcpuRestoredBytesPerSwitch),
                Opt(v.PredictedNsPerSwitch, "0.0"),
                new HtmlCell(Opt(v.PredictedThroughputDeltaPct, "+0.000;-0.000;0", " %") +
                    (v.PredictedThroughputDeltaUncertaintyPct is { } u ? $" ± {u.ToString("0.000", CultureInfo.InvariantCulture)}" : "") +
                    (v.WithinVariation is { } w ? $" ({BarClass(w)})" : ""), v.WithinVariation is null ? null : VerdictClass(v.WithinVariation)),
                $"{v.FpstateMemoryBytes.ToString("N0", CultureInfo.InvariantCulture)} B"]),
            new HashSet<int> { 2, 3, 6, 7, 8, 9, 10, 11, 12 });

    /// <summary>Bar class of a variant: the same rule as the claim's verdict (<see cref="ClaimVerdicts.Within"/>).</summary>
    public static string BarClass(ClaimVerdict? v) => v switch
    {
        ClaimVerdict.Confirmed => "inside",
        ClaimVerdict.NotConfirmed => "outside",
        _ => "straddles",
    };

    private static void ThroughputChart(StringBuilder sb, CetSResult r)
    {
        const int w = 520, h = 260, left = 60, bottom = 40, top = 30;
        var vs = r.Variants.Where(v => v.PredictedThroughputDeltaPct is not null).ToList();
        double threshold = r.VariationThresholdPct;
        // Scale to the predictions and their whiskers so they stay visible; a wider threshold band is clipped and labelled.
        double pred = vs.Select(v => Math.Abs(v.PredictedThroughputDeltaPct!.Value) + 2 * (v.PredictedThroughputDeltaUncertaintyPct ?? 0)).DefaultIfEmpty(0).Max();
        double max = pred > 0 ? Math.Min(Math.Max(pred * 1.3, threshold * 1.15), pred * 20) : Math.Max(threshold * 1.15, 0.01);
        bool clipped = threshold > max;
        double plotH = h - top - bottom, zeroY = top + plotH / 2;
        double Y(double pct) => zeroY - Math.Clamp(pct, -max, max) / max * (plotH / 2);
        sb.Append($"<figure><svg class=\"chart\" data-chart=\"throughput\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"predicted throughput change\">");
        Text(sb, w / 2.0, 18, "Predicted context_switch1 throughput change vs case 1 (%)", "middle", "title");
        // The verdict's threshold: ± the run-to-run variation around 0.
        double half = Math.Min(threshold, max);
        sb.Append($"<rect class=\"band\" data-threshold=\"{N(threshold)}\" x=\"{left}\" y=\"{N(Y(half))}\" width=\"{w - left - 10}\" height=\"{N(Y(-half) - Y(half))}\"><title>{(r.Measured is null ? "reported" : "measured")} run-to-run variation ±{N(threshold)} %</title></rect>");
        if (clipped)
            Text(sb, w - 14, top + 12, $"run-to-run variation ±{N(threshold)} % (beyond this scale)", "end", "tick");
        foreach (double t in new[] { max, max / 2, -max / 2, -max })
        {
            Text(sb, left - 6, Y(t) + 4, t.ToString("+0.###;-0.###", CultureInfo.InvariantCulture), "end", "tick");
            sb.Append($"<line class=\"grid\" x1=\"{left}\" y1=\"{N(Y(t))}\" x2=\"{w - 10}\" y2=\"{N(Y(t))}\"/>");
        }
        Text(sb, left - 6, zeroY + 4, "0", "end", "tick");
        double slot = (w - left - 10.0) / Math.Max(1, vs.Count);
        for (int i = 0; i < vs.Count; i++)
        {
            var v = vs[i];
            double d = v.PredictedThroughputDeltaPct!.Value, u = v.PredictedThroughputDeltaUncertaintyPct ?? 0;
            double x = left + slot * i + slot * 0.25, bw = slot * 0.5;
            double y0 = Math.Min(Y(d), zeroY), y1 = Math.Max(Y(d), zeroY);
            string cls = BarClass(v.WithinVariation);
            sb.Append($"<rect class=\"bar {cls}\" data-variant=\"{E(v.Name)}\" x=\"{N(x)}\" y=\"{N(y0)}\" width=\"{N(bw)}\" height=\"{N(Math.Max(1, y1 - y0))}\"><title>{E(v.Name)}: {d.ToString("+0.0000;-0.0000;0", CultureInfo.InvariantCulture)} % ± {N(u)} % (1σ): {cls}</title></rect>");
            double cx = x + bw / 2;
            sb.Append($"<line class=\"err {cls}\" data-variant=\"{E(v.Name)}\" data-lo=\"{R(d - 2 * u)}\" data-hi=\"{R(d + 2 * u)}\" x1=\"{N(cx)}\" y1=\"{N(Y(d + 2 * u))}\" x2=\"{N(cx)}\" y2=\"{N(Y(d - 2 * u))}\"/>");
            Text(sb, cx, h - bottom + 16, v.Name, "middle", "tick");
        }
        // The zero line last, so bars and whiskers never hide it.
        sb.Append($"<line class=\"axis zero\" x1=\"{left}\" y1=\"{N(zeroY)}\" x2=\"{w - 10}\" y2=\"{N(zeroY)}\"/>");
        sb.Append("</svg><figcaption>Bars: prediction; whiskers: ±2σ of the cost-model fit; shaded band: ± the run-to-run variation (the verdict's threshold). " +
            "Green: whisker inside the band; red: wholly outside; amber: straddling its edge (inconclusive).</figcaption></figure>");
    }

    /// <summary>Round-trippable number for data attributes (tests and readers recompute from them).</summary>
    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static void Breakdown(StringBuilder sb, CetSResult r, string h)
    {
        var rows = r.Variants.Where(v => v.Breakdown is not null).ToList();
        if (rows.Count == 0)
            return;
        sb.Append($"<{h}>Where the predicted time goes</{h}><p class=\"hint\">Per switch: fixed part + save + restore; each transfer costs base + per requested component·|RFBM| + per moved component·moved + per byte·bytes (counts are per switch). Throughput change = ns(case 1) / ns(variant) − 1.</p>");
        HtmlTable.Write(sb, "breakdown",
            ["variant", "save instr.", "fixed ns", "save requested / moved / bytes", "save ns (base + req + comp + byte)", "restore requested / moved / bytes",
             "restore ns (base + req + comp + byte)", "total ns"],
            rows.Select(v =>
            {
                var b = v.Breakdown!;
                return (IReadOnlyList<HtmlCell>)[v.Name, b.SaveInstruction, N(b.FixedNs), Counts(b.Save), Terms(b.Save), Counts(b.Restore), Terms(b.Restore), N(b.TotalNs)];
            }),
            new HashSet<int> { 2, 3, 4, 5, 6, 7 });
    }

    private static string Counts(TransferBreakdown x) => $"{N(x.Requested)} / {N(x.Moved)} / {N(x.Bytes)}";

    private static string Terms(TransferBreakdown x) => $"{N(x.BaseNs)} + {N(x.RequestedNs)} + {N(x.ComponentNs)} + {N(x.ByteNs)} = {N(x.TotalNs)}";

    private static void BytesChart(StringBuilder sb, CetSResult r)
    {
        const int w = 520, h = 280, left = 60, bottom = 58, top = 44;
        var vs = r.Variants;
        var axis = ChartAxis.For(vs.SelectMany(v => new[] { v.SavedBytesPerSwitch, v.RestoredBytesPerSwitch, v.VcpuSavedBytesPerSwitch, v.VcpuRestoredBytesPerSwitch }));
        double plotH = h - top - bottom;
        double Y(double b) => top + plotH - axis.Fraction(b) * plotH;
        sb.Append($"<figure><svg class=\"chart\" data-chart=\"bytes\" data-scale=\"{(axis.Log ? "log" : "linear")}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"bytes per switch\">");
        Text(sb, w / 2.0, 18, "Bytes written / read per context switch (counted)", "middle", "title");
        Text(sb, w / 2.0, 34, axis.Caption, "middle", "tick scale");
        foreach (double t in axis.Ticks)
        {
            Text(sb, left - 6, Y(t) + 4, ChartAxis.Tick(t), "end", "tick");
            sb.Append($"<line class=\"grid\" x1=\"{left}\" y1=\"{N(Y(t))}\" x2=\"{w - 10}\" y2=\"{N(Y(t))}\"/>");
        }
        string[] series = ["task saved", "task restored", "vCPU saved", "vCPU restored"];
        string[] colours = ["#5b8def", "#9bbcf5", "#d81b60", "#f48fb1"];
        double slot = (w - left - 10.0) / Math.Max(1, vs.Count), bw = slot * 0.8 / 4;
        for (int i = 0; i < vs.Count; i++)
        {
            var v = vs[i];
            double[] vals = [v.SavedBytesPerSwitch, v.RestoredBytesPerSwitch, v.VcpuSavedBytesPerSwitch, v.VcpuRestoredBytesPerSwitch];
            for (int k = 0; k < 4; k++)
            {
                double x = left + slot * i + slot * 0.1 + k * bw;
                sb.Append($"<rect class=\"bytes\" data-value=\"{R(vals[k])}\" x=\"{N(x)}\" y=\"{N(Y(vals[k]))}\" width=\"{N(bw - 1)}\" height=\"{N(Y(axis.Low) - Y(vals[k]))}\" fill=\"{colours[k]}\"><title>{E(v.Name)} {series[k]}: {N(vals[k])} B</title></rect>");
                if (vals[k] <= axis.Low)
                    Text(sb, x + bw / 2, Y(axis.Low) - 3, "0", "middle", "tick");
            }
            Text(sb, left + slot * i + slot / 2, h - bottom + 16, v.Name, "middle", "tick");
        }
        // The baseline last, so no bar hides it: the zero line on a linear axis, the lowest decade on a log one.
        sb.Append($"<line class=\"axis{(axis.Log ? "" : " zero")}\" x1=\"{left}\" y1=\"{N(Y(axis.Low))}\" x2=\"{w - 10}\" y2=\"{N(Y(axis.Low))}\"/>");
        for (int k = 0; k < 4; k++)
        {
            double x = left + (k % 2) * 200, y = h - 24 + (k / 2) * 14;
            sb.Append($"<rect x=\"{N(x)}\" y=\"{N(y - 9)}\" width=\"10\" height=\"10\" fill=\"{colours[k]}\"/>");
            Text(sb, x + 14, y, series[k], "start", "tick");
        }
        sb.Append("</svg><figcaption>A vCPU switched while in KVM_RUN saves and restores its guest fpstate.</figcaption></figure>");
    }

    private static void SweepChart(StringBuilder sb, CetSResult r)
    {
        const double tickFont = 11;
        var rows = r.Sweep;
        int rowH = 18, top = 44, barW = 480;
        string Verdict(SweepRow x) => x.Verdict + (x.SavingBytes > 0 ? $" ({x.SavingBytes} B)" : "");
        double left = rows.Select(x => TextWidth(x.Cpu, tickFont)).DefaultIfEmpty(40).Max() + 16;
        double right = rows.Select(x => TextWidth(Verdict(x), tickFont)).DefaultIfEmpty(40).Max() + 16;
        string title = "Task fpstate per catalog CPU: case 2 (bar) and case 3 (outline); verdict on the right";
        double w = Math.Max(left + barW + right, TextWidth(title, 12) + 20);
        int h = top + rows.Count * rowH + 10;
        var axis = ChartAxis.For(rows.SelectMany(x => new[] { (double)(x.TaskBytesCase2 ?? 0), x.TaskBytesCase3 ?? 0 }));
        double X(double b) => axis.Fraction(b) * barW;
        sb.Append($"<figure><svg class=\"chart\" data-chart=\"sweep\" width=\"{N(w)}\" height=\"{h}\" viewBox=\"0 0 {N(w)} {h}\" role=\"img\" aria-label=\"catalog sweep\">");
        Text(sb, w / 2.0, 16, title, "middle", "title");
        Text(sb, w / 2.0, 32, axis.Caption, "middle", "tick scale");
        for (int i = 0; i < rows.Count; i++)
        {
            var x = rows[i];
            double y = top + i * rowH;
            Text(sb, left - 6, y + 12, x.Cpu, "end", "tick");
            string cls = SweepClass(x);
            if (x.TaskBytesCase2 is { } b2)
                sb.Append($"<rect class=\"sw {cls}\" x=\"{N(left)}\" y=\"{N(y + 2)}\" width=\"{N(X(b2))}\" height=\"{rowH - 5}\"><title>{E(x.Cpu)}: case 2 task fpstate {b2} B</title></rect>");
            if (x.TaskBytesCase3 is { } b3)
                sb.Append($"<rect class=\"outline\" x=\"{N(left)}\" y=\"{N(y + 2)}\" width=\"{N(X(b3))}\" height=\"{rowH - 5}\"><title>{E(x.Cpu)}: case 3 task fpstate {b3} B</title></rect>");
            Text(sb, left + barW + 10, y + 12, Verdict(x), "start", "tick " + cls);
        }
        sb.Append($"<line class=\"axis zero\" x1=\"{N(left)}\" y1=\"{top}\" x2=\"{N(left)}\" y2=\"{top + rows.Count * rowH}\"/>");
        sb.Append("</svg><figcaption>Green: the saving holds; amber: alignment padding absorbs it (AMX parts); grey: no CET supervisor state.</figcaption></figure>");
    }

    /// <summary>Colour of a sweep row, from the same verdict the sweep table prints.</summary>
    public static string SweepClass(SweepRow x) =>
        x.Verdict.StartsWith("24", StringComparison.Ordinal) || x.Verdict.StartsWith("saving is", StringComparison.Ordinal) ? "holds"
        : x.Verdict.StartsWith("saving 0", StringComparison.Ordinal) ? "zero" : "absent";

    private static string? Num(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "—";

    private static void SweepTable(StringBuilder sb, CetSResult r) =>
        HtmlTable.Write(sb, "sweep", ["CPU", "description", "CET_S", "task B case 1", "task B case 2", "task B case 3", "vCPU B case 2", "saving", "verdict", "why"],
            r.Sweep.Select(x => (IReadOnlyList<HtmlCell>)[x.Cpu, x.Description, x.HasCetS ? "yes" : "no", Num(x.TaskBytesCase1)!, Num(x.TaskBytesCase2)!,
                Num(x.TaskBytesCase3)!, Num(x.VcpuBytesCase2)!, $"{x.SavingBytes} B", new HtmlCell(x.Verdict, SweepClass(x)), x.Why]),
            new HashSet<int> { 3, 4, 5, 6, 7 });

    /// <summary>The pages' CSS: layout, verdict colours, charts, byte maps and <see cref="HtmlTable.Style"/>. Everything
    /// is sized to the window (SVGs scale down, tables wrap or stack), so nothing overflows an 800-pixel window.</summary>
    public const string Style = HtmlTable.Style + Css;

    private const string Css = """
        *{box-sizing:border-box}
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:16px 24px;color:#212121;max-width:1240px}
        h1{font-size:1.5em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1.1em;margin:1.2em 0 .3em}h4{font-size:1em;margin:1em 0 .2em}
        p,li,blockquote{overflow-wrap:anywhere}
        .meta,.hint{color:#555}#warnings{color:#b71c1c}
        .claim{border-left:6px solid #9e9e9e;padding:6px 12px;margin:8px 0;background:#fafafa}
        .claim.ok{border-color:#43a047}.claim.no{border-color:#e53935}.claim.inconclusive{border-color:#ffb300}
        .claim .verdict{font-weight:bold;text-transform:uppercase;font-size:.8em}
        .claim.ok .verdict{color:#2e7d32}.claim.no .verdict{color:#c62828}.claim.inconclusive .verdict{color:#e65100}
        td.ok{color:#2e7d32}td.no{color:#c62828}td.inconclusive{color:#e65100}td.holds{color:#2e7d32}td.zero{color:#e65100}td.absent{color:#757575}
        blockquote{margin:4px 0;font-style:italic}
        .charts{display:flex;flex-wrap:wrap;gap:16px}
        figure{margin:0 0 .8em;max-width:100%}figcaption{font-size:.8em;color:#555}
        svg{max-width:100%;height:auto;display:block}
        svg text{font-size:11px;fill:#333}svg text.title{font-size:12px;font-weight:bold}svg text.scale{font-style:italic}
        svg text.seglabel{fill:#fff;font-size:10px}svg text.key{font-size:11px;font-weight:bold}
        svg text.maplabel{font-size:12px}svg text.mapsize{font-size:11px}
        .leader{stroke:#757575;stroke-width:.75}
        .axis{stroke:#333}.grid{stroke:#e0e0e0}.err{stroke:#212121;stroke-width:1.5}
        .band{fill:#c8e6c9;opacity:.6}.bar{fill:#5b8def}.bar.inside{fill:#66bb6a}.bar.outside{fill:#e53935}.bar.straddles{fill:#ffb300}
        .err.outside{stroke:#b71c1c}.err.straddles{stroke:#e65100}.axis.zero{stroke:#000;stroke-width:1.5}
        .sw.holds{fill:#66bb6a}.sw.zero{fill:#ffb300}.sw.absent{fill:#bdbdbd}
        .outline{fill:none;stroke:#212121;stroke-dasharray:3 2}
        svg text.holds{fill:#2e7d32}svg text.zero{fill:#e65100}svg text.absent{fill:#757575}
        .seg rect:hover{opacity:.75}
        ol.legend{display:flex;flex-wrap:wrap;gap:2px 14px;list-style:none;padding:0;margin:2px 0 0;font-size:12px}
        ol.legend li{white-space:nowrap}ol.legend .swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
        ol.legend .key{font-weight:bold}ol.legend .where{color:#666}
        .report-section{margin-bottom:1.5em}pre.text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px;margin:.3em 0}
        dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.5em 0;font-size:14px}dl.kv dt{font-weight:bold}dl.kv dd{margin:0;overflow-wrap:anywhere}
        p.unavailable{color:#b71c1c}p.line{margin:.3em 0}p.line.indent{margin-left:1.5em}
        """;
}
