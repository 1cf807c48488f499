namespace XsaveLab.Sim.Measure;

/// <summary>Robust summaries used for measurements and calibration.</summary>
public static class Stats
{
    public static double Median(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0)
            return double.NaN;
        var s = xs.Order().ToArray();
        int n = s.Length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /// <summary>(max − min) / median × 100; 0 for fewer than two samples.</summary>
    public static double SpreadPct(IReadOnlyList<double> xs)
    {
        if (xs.Count < 2)
            return 0;
        double m = Median(xs);
        return m == 0 ? 0 : (xs.Max() - xs.Min()) / m * 100;
    }

    /// <summary>Sample standard deviation / mean × 100.</summary>
    public static double RelativeStdDevPct(IReadOnlyList<double> xs)
    {
        if (xs.Count < 2)
            return 0;
        double mean = xs.Average();
        double var = xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1);
        return mean == 0 ? 0 : Math.Sqrt(var) / mean * 100;
    }
}
