using static XsaveLab.Sim.Report.Svg;

namespace XsaveLab.Sim.Report;

/// <summary>An XSAVE buffer drawn to scale: one bar, a coloured segment per component. A segment wide enough for its
/// name carries it in place; a narrower one (PKRU's 8 bytes next to AMX's 8 KiB) gets its key number on a leader line
/// below the bar, spread out so numbers never overlap. The legend under the drawing lists every segment as text —
/// number, name, offset, size — so no component is known only by hovering.</summary>
public static class ByteMap
{
    private const int Width = 900, Left = 10, Right = 890, BarY = 22, BarH = 34, KeyY = BarY + BarH + 20, Height = KeyY + 22;
    private const double LabelFont = 10, KeyFont = 11, KeyGap = 18;

    public static void Write(StringBuilder sb, string label, FpstateMap map, string id)
    {
        var segs = map.Segments.OrderBy(s => s.Offset).ToList();
        double scale = (Right - Left) / (double)Math.Max(1, map.Size);
        sb.Append($"<figure class=\"bytemap-fig\" data-map=\"{E(id)}\">");
        sb.Append($"<svg class=\"bytemap\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{E(label)}\">");
        Text(sb, Left, 14, label, "start", "maplabel");
        sb.Append($"<rect x=\"{Left}\" y=\"{BarY}\" width=\"{N(map.Size * scale)}\" height=\"{BarH}\" fill=\"{Colour(-2)}\"><title>padding / unused</title></rect>");
        var keyed = new List<(int Key, double X)>();
        for (int i = 0; i < segs.Count; i++)
        {
            var s = segs[i];
            double x = Left + s.Offset * scale, sw = Math.Max(1.5, s.Size * scale);
            sb.Append($"<g class=\"seg\" data-component=\"{s.Component}\"><rect x=\"{N(x)}\" y=\"{BarY}\" width=\"{N(sw)}\" height=\"{BarH}\" fill=\"{Colour(s.Component)}\" stroke=\"#fff\" stroke-width=\"0.5\">");
            sb.Append($"<title>{E(Describe(s))}</title></rect>");
            if (TextWidth(s.Name, LabelFont) + 6 <= sw)
                Text(sb, x + sw / 2, BarY + BarH / 2.0 + 4, s.Name, "middle", "seglabel");
            else
                keyed.Add((i + 1, x + sw / 2));
            sb.Append("</g>");
        }
        var at = Spread(keyed.Select(k => k.X).ToList());
        for (int k = 0; k < keyed.Count; k++)
        {
            sb.Append($"<line class=\"leader\" x1=\"{N(keyed[k].X)}\" y1=\"{BarY + BarH}\" x2=\"{N(at[k])}\" y2=\"{KeyY - KeyFont}\"/>");
            Text(sb, at[k], KeyY, keyed[k].Key.ToString(CultureInfo.InvariantCulture), "middle", "key");
        }
        Text(sb, Right, 14, $"0 … {map.Size} bytes", "end", "mapsize");
        sb.Append("</svg><ol class=\"legend\">");
        for (int i = 0; i < segs.Count; i++)
        {
            var s = segs[i];
            sb.Append($"<li data-component=\"{s.Component}\"><span class=\"swatch\" style=\"background:{Colour(s.Component)}\"></span>");
            sb.Append($"<span class=\"key\">{i + 1}</span> <span class=\"name\">{E(s.Name)}</span> <span class=\"where\">{s.Offset}+{s.Size}</span></li>");
        }
        sb.Append("</ol></figure>");
    }

    /// <summary>Component, number, offset and size, as the tooltip says it.</summary>
    public static string Describe(FpstateSegment s)
    {
        string what = s.Component >= 0 ? $"{s.Name} (component {s.Component}{(s.Supervisor ? ", supervisor" : "")})" : s.Name;
        return $"{what}: offset {s.Offset}, {s.Size} bytes (ends at {s.Offset + s.Size})";
    }

    /// <summary>Places key numbers as near their segments as possible, at least <see cref="KeyGap"/> apart and inside
    /// the drawing: pushed right past their left neighbour, then pulled back left from the right edge.</summary>
    private static double[] Spread(IReadOnlyList<double> ideal)
    {
        var at = ideal.ToArray();
        double lo = Left + KeyGap / 2, hi = Right - KeyGap / 2;
        for (int i = 0; i < at.Length; i++)
            at[i] = Math.Max(at[i], i == 0 ? lo : at[i - 1] + KeyGap);
        for (int i = at.Length - 1; i >= 0; i--)
            at[i] = Math.Min(at[i], i == at.Length - 1 ? hi : at[i + 1] - KeyGap);
        return at;
    }
}
