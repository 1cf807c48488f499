namespace XsaveLab.Sim.Cost;

/// <summary>The cost model shipped with the library: fitted once with <c>calibrate -o</c> on a named reference
/// machine (docs/simulator.md, "Reference cost model") and embedded as a resource, so predictions for built-in
/// and dump CPUs are the same on every run and every machine. Calibrating happens only when asked.</summary>
public static class ReferenceCostModel
{
    public const string ResourceName = "XsaveLab.Sim.reference-cost-model.json";

    /// <summary>The shipped parameters, validated like any cost-model file.</summary>
    public static CostModelParameters Load()
    {
        using var s = typeof(ReferenceCostModel).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"resource {ResourceName} is missing from the build");
        using var reader = new StreamReader(s);
        return CostModelParameters.FromJson(reader.ReadToEnd(), ResourceName);
    }

    /// <summary>How results name it: machine, signature and calibration date.</summary>
    public static string Describe(CostModelParameters p) =>
        $"shipped reference model ({p.Machine}, {p.CpuSignature}, calibrated {p.CalibratedUtc?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "undated"})";
}
