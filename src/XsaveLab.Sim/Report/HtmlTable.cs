using static XsaveLab.Sim.Report.Svg;

namespace XsaveLab.Sim.Report;

/// <summary>One cell of an <see cref="HtmlTable"/>: text and an optional CSS class (a verdict colour).</summary>
public readonly record struct HtmlCell(string Text, string? Class = null)
{
    public static implicit operator HtmlCell(string text) => new(text);
}

/// <summary>The one table writer of the HTML pages. Cells wrap at word boundaries; a table whose columns cannot all
/// fit beside each other on a narrow screen (the widest word of every column, summed) is marked to switch to one
/// <c>header: value</c> line per cell there — the same choice the text tables make at 80 columns — so no table runs
/// off the page. Each cell carries its column's header for that layout.</summary>
public static class HtmlTable
{
    /// <summary>Table text size in CSS pixels (see <see cref="Style"/>).</summary>
    private const double FontPx = 13, CellPaddingPx = 12;

    /// <summary>Below these natural minimum widths a table stays a grid at 800 px and at 1200 px of content.</summary>
    private const double FitsNarrow = 680, FitsWide = 1100;

    public static void Write(StringBuilder sb, string? id, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<HtmlCell>> rows,
        IReadOnlySet<int>? numeric = null, string? caption = null)
    {
        var all = rows.ToList();
        double min = 0;
        for (int c = 0; c < headers.Count; c++)
        {
            int col = c;
            var words = all.Select(r => r[col].Text).Append(headers[c]).SelectMany(t => t.Split([' ', '\n', '/'], StringSplitOptions.RemoveEmptyEntries));
            min += words.Select(w => TextWidth(w, FontPx)).DefaultIfEmpty(0).Max() + CellPaddingPx;
        }
        string stack = min > FitsWide ? " stack-always" : min > FitsNarrow ? " stack-narrow" : "";
        sb.Append($"<div class=\"table-wrap\"><table{(id is null ? "" : $" id=\"{E(id)}\"")} class=\"grid{stack}\">");
        if (caption is not null)
            sb.Append($"<caption>{E(caption)}</caption>");
        sb.Append("<thead><tr>");
        foreach (var h in headers)
            sb.Append($"<th>{E(h.Replace('\n', ' '))}</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var r in all)
        {
            sb.Append("<tr>");
            for (int c = 0; c < headers.Count; c++)
            {
                string cls = string.Join(' ', new[] { numeric?.Contains(c) == true ? "num" : null, r[c].Class }.OfType<string>());
                sb.Append($"<td data-h=\"{E(headers[c].Replace('\n', ' '))}\"{(cls.Length > 0 ? $" class=\"{E(cls)}\"" : "")}>{E(r[c].Text)}</td>");
            }
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table></div>");
    }

    /// <summary>The tables' CSS, part of <see cref="HtmlReport.Style"/>.</summary>
    public const string Style = """
        .table-wrap{max-width:100%;overflow-x:auto}
        table.grid{border-collapse:collapse;margin:.5em 0;font-size:13px;max-width:100%}
        table.grid caption{text-align:left;font-weight:bold;padding:2px 0}
        table.grid th,table.grid td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
        table.grid th{background:#f5f5f5}table.grid td.num{text-align:right;font-variant-numeric:tabular-nums}
        @media (max-width:1000px){
          table.stack-narrow,table.stack-narrow tbody,table.stack-narrow tr,table.stack-narrow td{display:block}
          table.stack-narrow thead{display:none}table.stack-narrow tr{border-top:2px solid #bbb;margin-bottom:.4em}
          table.stack-narrow td{border:none;text-align:left}table.stack-narrow td.num{text-align:left}
          table.stack-narrow td::before{content:attr(data-h) ": ";font-weight:bold}
        }
        table.stack-always,table.stack-always tbody,table.stack-always tr,table.stack-always td{display:block}
        table.stack-always thead{display:none}table.stack-always tr{border-top:2px solid #bbb;margin-bottom:.4em}
        table.stack-always td{border:none}table.stack-always td.num{text-align:left}
        table.stack-always td::before{content:attr(data-h) ": ";font-weight:bold}
        """;
}
