namespace XsaveLab.Sim.Cost;

/// <summary>What a deserialised cost model must satisfy before any prediction uses it: every field present, every
/// number finite and inside its bound (<see cref="CostModelParameters.MaxNs"/>,
/// <see cref="CostModelParameters.MaxCovariance"/>), text fields short and free of control characters. A NaN or an
/// infinity would otherwise print "± NaN %" and decide a verdict.</summary>
internal static class CostModelValidation
{
    private const int MaxText = 200;

    public static void Check(CostModelParameters p, string file)
    {
        void Fail(string field, string problem) => throw new CostModelFormatException(file, field, problem);

        if (p.Format is null || p.Format != CostModelParameters.CurrentFormat)
            Fail("format", $"expected \"{CostModelParameters.CurrentFormat}\", found {(p.Format is null ? "nothing" : $"\"{p.Format}\"")}");
        Text(p.Machine, "machine", Fail);
        Text(p.CpuSignature, "cpuSignature", Fail);
        Text(p.Xcr0, "xcr0", Fail);
        if (p.XsavesEstimate is null)
            Fail("xsavesEstimate", "missing");
        if (p.Save is null)
            Fail("save", "missing");
        foreach (var key in new[] { "xsave", "xsavec" })
            if (!p.Save!.ContainsKey(key))
                Fail($"save.{key}", "missing");
        foreach (var (k, f) in p.Save!)
            Fit(f, $"save.{Short(k)}", Fail);
        Fit(p.Restore, "restore", Fail);
        if (p.PairOverlapNs is null)
            Fail("pairOverlapNs", "must be an object");
        foreach (var (k, v) in p.PairOverlapNs!)
            Number(v, $"pairOverlapNs.{Short(k)}", -CostModelParameters.MaxNs, CostModelParameters.MaxNs, Fail);
        if (p.SwitchFixedNs is { } s)
            Number(s, "switchFixedNs", 0, CostModelParameters.MaxNs, Fail);
        if (p.SwitchSpreadPct is { } sp)
            Number(sp, "switchSpreadPct", 0, 1e6, Fail);
        if (p.MeasuredSwitchesPerSecond is { } sw)
            Number(sw, "measuredSwitchesPerSecond", 0, 1e12, Fail);
    }

    private static void Fit(CostFit? f, string name, Action<string, string> fail)
    {
        if (f is null)
        {
            fail(name, "missing");
            return;
        }
        if (f.Cost is null)
            fail($"{name}.cost", "missing");
        var c = f.Cost!;
        foreach (var (field, v) in new[] { ("base", c.Base), ("perRequested", c.PerRequested), ("perComponent", c.PerComponent), ("perByte", c.PerByte) })
            Number(v, $"{name}.cost.{field}", 0, CostModelParameters.MaxNs, fail);
        if (f.Covariance is null || f.Covariance.Length != 4 || f.Covariance.Any(r => r is null || r.Length != 4))
            fail($"{name}.covariance", "must be a 4×4 array");
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Number(f.Covariance![i][j], $"{name}.covariance[{i}][{j}]", -CostModelParameters.MaxCovariance, CostModelParameters.MaxCovariance, fail);
        Number(f.RelativeResidualPct, $"{name}.relativeResidualPct", 0, 1e6, fail);
        if (f.Samples < 0)
            fail($"{name}.samples", $"must be ≥ 0, found {f.Samples}");
    }

    private static void Number(double v, string field, double min, double max, Action<string, string> fail)
    {
        if (!double.IsFinite(v))
            fail(field, $"must be a finite number, found {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        else if (v < min || v > max)
            fail(field, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"must be in [{min:G4}, {max:G4}], found {v:G6}"));
    }

    private static void Text(string? s, string field, Action<string, string> fail)
    {
        if (s is null)
            fail(field, "missing");
        else if (s.Length > MaxText)
            fail(field, $"longer than {MaxText} characters");
        else if (s.Any(char.IsControl))
            fail(field, "contains control characters");
    }

    /// <summary>A dictionary key as part of a field name, bounded and escaped.</summary>
    private static string Short(string key) => CostModelFormatException.Excerpt(key.Length > 40 ? key[..40] + "…" : key);
}
