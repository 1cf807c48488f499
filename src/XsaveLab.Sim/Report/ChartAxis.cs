namespace XsaveLab.Sim.Report;

/// <summary>The value axis of a bar chart of non-negative quantities (bytes). Linear from zero, so the baseline is
/// the zero line, unless the bars differ so much that the small ones would vanish: when the largest non-zero value is
/// at least <see cref="LogRatio"/> times the smallest, the axis is logarithmic, starting at the decade below the
/// smallest value (a zero bar is drawn as nothing and labelled "0"). <see cref="Caption"/> says which.</summary>
public sealed class ChartAxis
{
    /// <summary>A bar under 1/20 of the tallest is a few pixels high in a 200-pixel plot: unreadable, so such charts
    /// (and every chart whose bars differ by 100× or more) switch to a log axis.</summary>
    public const double LogRatio = 20;

    private ChartAxis(bool log, double lo, double hi)
    {
        Log = log;
        Low = lo;
        High = hi;
    }

    public bool Log { get; }

    /// <summary>The value at the baseline: 0 on a linear axis, a power of ten on a log axis.</summary>
    public double Low { get; }

    public double High { get; }

    public static ChartAxis For(IEnumerable<double> values)
    {
        var pos = values.Where(v => v > 0 && double.IsFinite(v)).ToList();
        if (pos.Count == 0)
            return new ChartAxis(false, 0, 1);
        double min = pos.Min(), max = pos.Max();
        if (max / min < LogRatio)
            return new ChartAxis(false, 0, max * 1.1);
        return new ChartAxis(true, Math.Pow(10, Math.Floor(Math.Log10(min))), Math.Pow(10, Math.Ceiling(Math.Log10(max * 1.05))));
    }

    /// <summary>Where <paramref name="v"/> lies between the baseline (0) and the top (1); 0 for zero or less.</summary>
    public double Fraction(double v)
    {
        if (v <= Low)
            return 0;
        double f = Log ? (Math.Log10(v) - Math.Log10(Low)) / (Math.Log10(High) - Math.Log10(Low)) : v / High;
        return Math.Clamp(f, 0, 1);
    }

    /// <summary>Labelled values: 0, half and the largest on a linear axis; each decade on a log axis.</summary>
    public IReadOnlyList<double> Ticks
    {
        get
        {
            if (!Log)
                return [0, High / 1.1 / 2, High / 1.1];
            var t = new List<double>();
            for (double d = Low; d <= High * 1.0001; d *= 10)
                t.Add(d);
            return t;
        }
    }

    /// <summary>What the reader must know about the scale, shown on the chart.</summary>
    public string Caption => Log
        ? $"log scale (bars differ by {LogRatio:0}× or more; they start at {Svg.N(Low)})"
        : "linear scale from 0";

    public static string Tick(double v) => v >= 10_000 ? v.ToString("0,0", CultureInfo.InvariantCulture) : Svg.N(Math.Round(v, v < 10 ? 2 : 0));
}
