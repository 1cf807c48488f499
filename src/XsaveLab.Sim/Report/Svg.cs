namespace XsaveLab.Sim.Report;

/// <summary>Hand-written SVG/HTML basics: invariant numbers, escaping, component colours, text widths. Shared by the
/// experiment page and the whole-report page.</summary>
public static class Svg
{
    public static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    public static string E(string s) => WebUtility.HtmlEncode(s);

    /// <summary>Fill colour of a component (stable per number; header and padding grey).</summary>
    public static string Colour(int component) => component switch
    {
        -1 => "#9e9e9e",
        -2 => "#eeeeee",
        0 => "#5b8def",
        1 => "#7fb3ff",
        2 => "#58c4a7",
        3 or 4 => "#b0a16b",
        5 => "#f2b134",
        6 => "#ef8a3c",
        7 => "#e35d5d",
        9 => "#a178df",
        10 => "#8d6e63",
        11 => "#26a69a",
        12 => "#d81b60",
        15 => "#795548",
        17 => "#00897b",
        18 => "#3949ab",
        19 => "#6d4c41",
        _ => "#90a4ae",
    };

    /// <summary>Width of <paramref name="text"/> in a sans-serif face of <paramref name="fontPx"/> pixels, rounded up (an
    /// average glyph is about 0.6 em; capitals and digits are wider than that, so 0.62 em keeps labels inside their box).</summary>
    public static double TextWidth(string text, double fontPx) => Math.Ceiling(text.Length * fontPx * 0.62);

    public static void Text(StringBuilder sb, double x, double y, string text, string anchor = "start", string cls = "") =>
        sb.Append($"<text x=\"{N(x)}\" y=\"{N(y)}\" text-anchor=\"{anchor}\"{(cls.Length > 0 ? $" class=\"{cls}\"" : "")}>{E(text)}</text>");
}
