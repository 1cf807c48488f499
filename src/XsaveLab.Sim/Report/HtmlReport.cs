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
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.Append($"<title>{E(title)}</title><style>{Css}</style></head><body>");
        sb.Append($"<h1>{E(title)}</h1>");
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

        Claims(sb, r);
        sb.Append("<h2>Variants</h2>");
        VariantsTable(sb, r);
        if (r.Measured is { } m)
        {
            sb.Append("<h2>Measured on this machine</h2>");
            sb.Append($"<table id=\"measured\"><tr><th>mode</th><th>vector state</th><th>runs</th><th>median switches/s</th><th>run-to-run spread</th><th>samples</th></tr>");
            sb.Append($"<tr><td>{E(m.Mode)}</td><td>{E(m.VectorState)}</td><td>{m.Runs}</td><td class=\"num\">{m.SwitchesPerSecond.ToString("N0", CultureInfo.InvariantCulture)}</td>");
            sb.Append($"<td class=\"num\">{N(m.RunToRunSpreadPct)} %</td><td>{E(string.Join(", ", m.Samples.Select(x => x.ToString("N0", CultureInfo.InvariantCulture))))}</td></tr></table>");
        }
        Breakdown(sb, r);
        sb.Append("<h2>Charts</h2><div class=\"charts\">");
        ThroughputChart(sb, r);
        BytesChart(sb, r);
        sb.Append("</div>");
        sb.Append("<h2>fpstate byte maps</h2><p class=\"hint\">Hover a segment for its component, offset and size.</p>");
        foreach (var v in r.Variants)
        {
            sb.Append($"<h3>{E(v.Name)} — {E(v.Case)}</h3>");
            ByteMap(sb, $"task fpstate ({v.TaskFpstateBytes} B, xfeatures {v.TaskLayout.Xfeatures})", v.TaskLayout, $"task-{v.Name}");
            ByteMap(sb, $"vCPU guest fpstate ({v.VcpuFpstateBytes} B, xfeatures {v.VcpuLayout.Xfeatures})", v.VcpuLayout, $"vcpu-{v.Name}");
        }
        sb.Append("<h2>Catalog sweep</h2>");
        SweepChart(sb, r);
        SweepTable(sb, r);
        if (r.Notes.Count > 0)
        {
            sb.Append("<h2>Notes</h2><ul>");
            foreach (var n in r.Notes)
                sb.Append($"<li>{E(n)}</li>");
            sb.Append("</ul>");
        }
        sb.Append("</body></html>");
        return sb.ToString();
    }

    private static void Claims(StringBuilder sb, CetSResult r)
    {
        sb.Append("<h2>The cover letter's claims</h2><div id=\"claims\">");
        foreach (var c in r.Claims)
        {
            string cls = c.Verdict switch { ClaimVerdict.Confirmed => "ok", ClaimVerdict.NotConfirmed => "no", _ => "inconclusive" };
            string verdict = c.Label.ToLowerInvariant();
            sb.Append($"<div class=\"claim {cls}\" data-claim=\"{E(c.Id)}\"><div class=\"verdict\">{verdict}</div><blockquote>{E(c.Claim)}</blockquote><p>{E(c.Evidence)}</p></div>");
        }
        sb.Append("</div>");
    }

    private static string Opt(double? v, string fmt, string suffix = "") => v is { } x ? x.ToString(fmt, CultureInfo.InvariantCulture) + suffix : "—";

    private static void VariantsTable(StringBuilder sb, CetSResult r)
    {
        sb.Append("<table id=\"variants\"><tr><th>variant</th><th>case</th><th>task fpstate B</th><th>vCPU fpstate B</th><th>XSS[12]</th><th>task RFBM[12]</th>");
        sb.Append("<th>saved B/switch</th><th>restored B/switch</th><th>vCPU saved B/switch</th><th>vCPU restored B/switch</th><th>predicted ns/switch</th><th>throughput Δ vs case 1</th><th>fpstate memory</th></tr>");
        foreach (var v in r.Variants)
        {
            sb.Append($"<tr><td>{E(v.Name)}</td><td>{E(v.Case)}</td><td class=\"num\">{v.TaskFpstateBytes}</td><td class=\"num\">{v.VcpuFpstateBytes}</td>");
            sb.Append($"<td>{(v.XssCetS ? "1" : "0")}</td><td>{(v.TaskRfbmCetS ? "1" : "0")}</td>");
            sb.Append($"<td class=\"num\">{N(v.SavedBytesPerSwitch)}</td><td class=\"num\">{N(v.RestoredBytesPerSwitch)}</td><td class=\"num\">{N(v.VcpuSavedBytesPerSwitch)}</td><td class=\"num\">{N(v.VcpuRestoredBytesPerSwitch)}</td>");
            sb.Append($"<td class=\"num\">{Opt(v.PredictedNsPerSwitch, "0.0")}</td>");
            sb.Append($"<td class=\"num\">{Opt(v.PredictedThroughputDeltaPct, "+0.000;-0.000;0", " %")}{(v.PredictedThroughputDeltaUncertaintyPct is { } u ? $" ± {u.ToString("0.000", CultureInfo.InvariantCulture)}" : "")}</td>");
            sb.Append($"<td class=\"num\">{v.FpstateMemoryBytes.ToString("N0", CultureInfo.InvariantCulture)} B</td></tr>");
        }
        sb.Append("</table>");
    }

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

    private static void Breakdown(StringBuilder sb, CetSResult r)
    {
        var rows = r.Variants.Where(v => v.Breakdown is not null).ToList();
        if (rows.Count == 0)
            return;
        sb.Append("<h2>Where the predicted time goes</h2><p class=\"hint\">Per switch: fixed part + save + restore; each transfer costs base + per requested component·|RFBM| + per moved component·moved + per byte·bytes (counts are per switch). Throughput change = ns(case 1) / ns(variant) − 1.</p>");
        sb.Append("<table id=\"breakdown\"><tr><th>variant</th><th>save instr.</th><th>fixed ns</th><th>save requested / moved / bytes</th><th>save ns (base + req + comp + byte)</th><th>restore requested / moved / bytes</th><th>restore ns (base + req + comp + byte)</th><th>total ns</th></tr>");
        foreach (var v in rows)
        {
            var b = v.Breakdown!;
            sb.Append($"<tr><td>{E(v.Name)}</td><td>{E(b.SaveInstruction)}</td><td class=\"num\">{N(b.FixedNs)}</td>");
            foreach (var x in new[] { b.Save, b.Restore })
                sb.Append($"<td class=\"num\">{N(x.Requested)} / {N(x.Moved)} / {N(x.Bytes)}</td><td class=\"num\">{N(x.BaseNs)} + {N(x.RequestedNs)} + {N(x.ComponentNs)} + {N(x.ByteNs)} = {N(x.TotalNs)}</td>");
            sb.Append($"<td class=\"num\">{N(b.TotalNs)}</td></tr>");
        }
        sb.Append("</table>");
    }

    private static void BytesChart(StringBuilder sb, CetSResult r)
    {
        const int w = 520, h = 260, left = 60, bottom = 40, top = 30;
        var vs = r.Variants;
        double max = vs.SelectMany(v => new[] { v.SavedBytesPerSwitch, v.RestoredBytesPerSwitch, v.VcpuSavedBytesPerSwitch, v.VcpuRestoredBytesPerSwitch }).DefaultIfEmpty(1).Max() * 1.1;
        if (max <= 0) max = 1;
        double plotH = h - top - bottom;
        double Y(double b) => top + plotH - b / max * plotH;
        sb.Append($"<figure><svg class=\"chart\" data-chart=\"bytes\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"bytes per switch\">");
        Text(sb, w / 2.0, 18, "Bytes written / read per context switch (counted)", "middle", "title");
        sb.Append($"<line class=\"axis\" x1=\"{left}\" y1=\"{N(Y(0))}\" x2=\"{w - 10}\" y2=\"{N(Y(0))}\"/>");
        foreach (double t in new[] { max / 1.1, max / 2.2 })
            Text(sb, left - 6, Y(t) + 4, t.ToString("0", CultureInfo.InvariantCulture), "end", "tick");
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
                sb.Append($"<rect x=\"{N(x)}\" y=\"{N(Y(vals[k]))}\" width=\"{N(bw - 1)}\" height=\"{N(Math.Max(0.5, Y(0) - Y(vals[k])))}\" fill=\"{colours[k]}\"><title>{E(v.Name)} {series[k]}: {N(vals[k])} B</title></rect>");
            }
            Text(sb, left + slot * i + slot / 2, h - bottom + 16, v.Name, "middle", "tick");
        }
        for (int k = 0; k < 4; k++)
        {
            sb.Append($"<rect x=\"{left + k * 110}\" y=\"{h - 14}\" width=\"10\" height=\"10\" fill=\"{colours[k]}\"/>");
            Text(sb, left + k * 110 + 14, h - 5, series[k], "start", "tick");
        }
        sb.Append("</svg><figcaption>A vCPU switched while in KVM_RUN saves and restores its guest fpstate.</figcaption></figure>");
    }

    private static void ByteMap(StringBuilder sb, string label, FpstateMap map, string id)
    {
        const int w = 900, barY = 22, barH = 34, h = 80;
        double scale = (w - 20.0) / Math.Max(1, map.Size);
        sb.Append($"<svg class=\"bytemap\" data-map=\"{E(id)}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{E(label)}\">");
        Text(sb, 10, 14, label, "start", "maplabel");
        sb.Append($"<rect x=\"10\" y=\"{barY}\" width=\"{N(map.Size * scale)}\" height=\"{barH}\" fill=\"{Colour(-2)}\"><title>padding / unused</title></rect>");
        foreach (var s in map.Segments.OrderBy(s => s.Offset))
        {
            double x = 10 + s.Offset * scale, sw = Math.Max(1.5, s.Size * scale);
            string what = s.Component >= 0 ? $"{s.Name} (component {s.Component}{(s.Supervisor ? ", supervisor" : "")})" : s.Name;
            sb.Append($"<g class=\"seg\" data-component=\"{s.Component}\"><rect x=\"{N(x)}\" y=\"{barY}\" width=\"{N(sw)}\" height=\"{barH}\" fill=\"{Colour(s.Component)}\" stroke=\"#fff\" stroke-width=\"0.5\">");
            sb.Append($"<title>{E(what)}: offset {s.Offset}, {s.Size} bytes (ends at {s.Offset + s.Size})</title></rect>");
            if (sw > 34)
                Text(sb, x + sw / 2, barY + barH / 2.0 + 4, s.Name, "middle", "seglabel");
            else if (s.Component == 12)
                Text(sb, x + sw / 2, barY - 3, "CET_S", "middle", "callout");
            sb.Append("</g>");
        }
        Text(sb, 10, barY + barH + 14, "0", "start", "tick");
        Text(sb, 10 + map.Size * scale, barY + barH + 14, map.Size.ToString(CultureInfo.InvariantCulture), "end", "tick");
        sb.Append("</svg>");
    }

    private static void SweepChart(StringBuilder sb, CetSResult r)
    {
        var rows = r.Sweep;
        int rowH = 18, left = 150, w = 900, top = 28;
        int h = top + rows.Count * rowH + 30;
        double max = rows.Select(x => (double)(x.TaskBytesCase3 ?? 0)).DefaultIfEmpty(1).Max();
        if (max <= 0) max = 1;
        double scale = (w - left - 220.0) / max;
        sb.Append($"<figure><svg class=\"chart\" data-chart=\"sweep\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"catalog sweep\">");
        Text(sb, w / 2.0, 16, "Task fpstate per catalog CPU: case 2 (bar) and case 3 (outline); verdict on the right", "middle", "title");
        for (int i = 0; i < rows.Count; i++)
        {
            var x = rows[i];
            double y = top + i * rowH;
            Text(sb, left - 6, y + 12, x.Cpu, "end", "tick");
            string cls = x.Verdict.StartsWith("24") || x.Verdict.StartsWith("saving is") ? "holds" : x.Verdict.StartsWith("saving 0") ? "zero" : "absent";
            if (x.TaskBytesCase2 is { } b2)
                sb.Append($"<rect class=\"sw {cls}\" x=\"{left}\" y=\"{N(y + 2)}\" width=\"{N(b2 * scale)}\" height=\"{rowH - 5}\"><title>{E(x.Cpu)}: case 2 task fpstate {b2} B</title></rect>");
            if (x.TaskBytesCase3 is { } b3)
                sb.Append($"<rect class=\"outline\" x=\"{left}\" y=\"{N(y + 2)}\" width=\"{N(b3 * scale)}\" height=\"{rowH - 5}\"><title>{E(x.Cpu)}: case 3 task fpstate {b3} B</title></rect>");
            Text(sb, w - 210, y + 12, x.Verdict + (x.SavingBytes > 0 ? $" ({x.SavingBytes} B)" : ""), "start", "tick " + cls);
        }
        sb.Append("</svg><figcaption>Green: the saving holds; amber: alignment padding absorbs it (AMX parts); grey: no CET supervisor state.</figcaption></figure>");
    }

    private static void SweepTable(StringBuilder sb, CetSResult r)
    {
        sb.Append("<table id=\"sweep\"><tr><th>CPU</th><th>description</th><th>CET_S</th><th>task B case 1</th><th>task B case 2</th><th>task B case 3</th><th>vCPU B case 2</th><th>saving</th><th>verdict</th><th>why</th></tr>");
        foreach (var x in r.Sweep)
        {
            sb.Append($"<tr><td>{E(x.Cpu)}</td><td>{E(x.Description)}</td><td>{(x.HasCetS ? "yes" : "no")}</td>");
            sb.Append($"<td class=\"num\">{x.TaskBytesCase1?.ToString(CultureInfo.InvariantCulture) ?? "—"}</td><td class=\"num\">{x.TaskBytesCase2?.ToString(CultureInfo.InvariantCulture) ?? "—"}</td>");
            sb.Append($"<td class=\"num\">{x.TaskBytesCase3?.ToString(CultureInfo.InvariantCulture) ?? "—"}</td><td class=\"num\">{x.VcpuBytesCase2?.ToString(CultureInfo.InvariantCulture) ?? "—"}</td>");
            sb.Append($"<td class=\"num\">{x.SavingBytes} B</td><td>{E(x.Verdict)}</td><td>{E(x.Why)}</td></tr>");
        }
        sb.Append("</table>");
    }

    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#212121;max-width:1200px}
        h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1em;margin:1em 0 .2em}
        .meta,.hint{color:#555}#warnings{color:#b71c1c}
        table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
        th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
        th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
        .claim{border-left:6px solid #9e9e9e;padding:6px 12px;margin:8px 0;background:#fafafa}
        .claim.ok{border-color:#43a047}.claim.no{border-color:#e53935}.claim.inconclusive{border-color:#ffb300}
        .claim .verdict{font-weight:bold;text-transform:uppercase;font-size:.8em}
        .claim.ok .verdict{color:#2e7d32}.claim.no .verdict{color:#c62828}.claim.inconclusive .verdict{color:#e65100}
        blockquote{margin:4px 0;font-style:italic}
        .charts{display:flex;flex-wrap:wrap;gap:16px}
        figure{margin:0}figcaption{font-size:.8em;color:#555}
        svg text{font-size:11px;fill:#333}svg text.title{font-size:12px;font-weight:bold}
        svg text.seglabel{fill:#fff;font-size:10px}svg text.callout{fill:#d81b60;font-weight:bold}
        svg text.maplabel{font-size:12px}
        .axis{stroke:#333}.grid{stroke:#e0e0e0}.err{stroke:#212121;stroke-width:1.5}
        .band{fill:#c8e6c9;opacity:.6}.bar{fill:#5b8def}.bar.inside{fill:#66bb6a}.bar.outside{fill:#e53935}.bar.straddles{fill:#ffb300}
        .err.outside{stroke:#b71c1c}.err.straddles{stroke:#e65100}.axis.zero{stroke:#000;stroke-width:1.5}
        .sw.holds{fill:#66bb6a}.sw.zero{fill:#ffb300}.sw.absent{fill:#bdbdbd}
        .outline{fill:none;stroke:#212121;stroke-dasharray:3 2}
        svg text.holds{fill:#2e7d32}svg text.zero{fill:#e65100}svg text.absent{fill:#757575}
        .seg rect:hover{opacity:.75}
        """;
}
