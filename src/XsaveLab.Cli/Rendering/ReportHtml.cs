using Spectre.Console;
using static XsaveLab.Sim.Report.Svg;

namespace XsaveLab.Cli.Rendering;

/// <summary><c>report --html</c>: the whole report as one self-contained page — inline CSS and SVG, no scripts, no
/// external resources. Every section of the text report in the same order, drawn from the same
/// <see cref="ReportBlock"/>s (<see cref="ReportContext.ContentOf"/>): tables as HTML tables, the layout also as byte
/// maps, the experiment with its charts (<see cref="HtmlReport.Body"/>). The styling is the experiment page's
/// (<see cref="HtmlReport.Style"/>), which keeps everything inside an 800-pixel window.</summary>
public static class ReportHtml
{
    public static string Render(ReportContext rc)
    {
        var sections = ReportSections.For(rc);
        var sb = new StringBuilder(256 * 1024);
        string title = $"XsaveLab report: {rc.Cpu.Name}";
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append($"<title>{E(title)}</title><style>{HtmlReport.Style}</style></head><body>");
        sb.Append($"<h1>{E(title)}</h1>");
        sb.Append($"<p class=\"meta\">CPU <b>{E(rc.Cpu.Name)}</b> ({E(rc.Selection.Origin)}); kernel variant <b>{E(rc.Kernel.Name)}</b> for the kernel and user-ABI sections.</p>");
        sb.Append("<nav><ol>");
        foreach (var s in sections)
            sb.Append($"<li><a href=\"#{E(s.JsonKey)}\">{E(s.Title)}</a></li>");
        sb.Append("</ol></nav>");
        foreach (var s in sections)
        {
            sb.Append($"<section class=\"report-section\" id=\"{E(s.JsonKey)}\"><h2>{E(s.Title)}</h2>");
            switch (rc.ContentOf(s))
            {
                case IReadOnlyList<ReportBlock> blocks:
                    foreach (var b in blocks)
                        Block(sb, b, s.JsonKey);
                    break;
                case SectionUnavailable u:
                    sb.Append($"<p class=\"unavailable\">cannot run on this CPU: {E(SafeText.Line(u.Unavailable))}</p>");
                    break;
            }
            sb.Append("</section>");
        }
        sb.Append("</body></html>");
        return sb.ToString();
    }

    private static void Block(StringBuilder sb, ReportBlock block, string section)
    {
        switch (block)
        {
            case TextBlock t:
                sb.Append($"<p class=\"line{(t.Text.StartsWith(' ') ? " indent" : "")}\">{E(t.Text.Trim())}</p>");
                break;
            case KeyValueBlock kv:
                sb.Append("<dl class=\"kv\">");
                foreach (var (k, v) in kv.Rows)
                    sb.Append($"<dt>{E(k)}</dt><dd>{E(v)}</dd>");
                sb.Append("</dl>");
                break;
            case TableBlock t:
                HtmlTable.Write(sb, null, t.Table.Headers,
                    t.Table.Rows.Select(r => (IReadOnlyList<HtmlCell>)[.. r.Select(c => new HtmlCell(c.Text, ClassOf(c.Colour)))]),
                    t.Table.RightAligned, t.Table.TitleText);
                break;
            case ByteMapBlock m:
                ByteMap.Write(sb, m.Label, m.Map, $"{section}-{m.Id}");
                break;
            case ExperimentBlock e:
                HtmlReport.Body(sb, e.Result, 3);
                break;
            default:
                throw new ArgumentException($"no HTML form for {block.GetType().Name}", nameof(block));
        }
    }

    /// <summary>The page's class for a text cell's colour: the text report colours verdicts green (holds), red (does
    /// not), yellow (inconclusive) and grey (does not apply); the page uses the same four.</summary>
    public static string? ClassOf(Color? c) =>
        c is not { } x ? null : x == Color.Green ? "ok" : x == Color.Red ? "no" : x == Color.Yellow ? "inconclusive" : "absent";
}
