namespace XsaveLab.Sim.Experiment;

/// <summary>The three answers a claim can get.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ClaimVerdict>))]
public enum ClaimVerdict
{
    [JsonStringEnumMemberName("confirmed")]
    Confirmed,

    [JsonStringEnumMemberName("not-confirmed")]
    NotConfirmed,

    /// <summary>The prediction's ±2σ band straddles the threshold, or there is no prediction.</summary>
    [JsonStringEnumMemberName("inconclusive")]
    Inconclusive,
}

public static class ClaimVerdicts
{
    public static string Label(this ClaimVerdict v) => v switch
    {
        ClaimVerdict.Confirmed => "CONFIRMED",
        ClaimVerdict.NotConfirmed => "NOT CONFIRMED",
        _ => "INCONCLUSIVE",
    };

    /// <summary>Is |change| below <paramref name="thresholdPct"/>? Confirmed when the whole band
    /// change ± 2σ is inside (−threshold, threshold), not confirmed when the whole band is outside, inconclusive
    /// when the band straddles the threshold or a figure is not finite.</summary>
    public static ClaimVerdict Within(double changePct, double sigmaPct, double thresholdPct)
    {
        if (!double.IsFinite(changePct) || !double.IsFinite(sigmaPct) || !double.IsFinite(thresholdPct) || sigmaPct < 0)
            return ClaimVerdict.Inconclusive;
        double lo = changePct - 2 * sigmaPct, hi = changePct + 2 * sigmaPct;
        if (lo > -thresholdPct && hi < thresholdPct)
            return ClaimVerdict.Confirmed;
        if (lo >= thresholdPct || hi <= -thresholdPct)
            return ClaimVerdict.NotConfirmed;
        return ClaimVerdict.Inconclusive;
    }

    /// <summary>All decided the same way → that verdict; any not confirmed → not confirmed; else inconclusive.</summary>
    public static ClaimVerdict All(params ClaimVerdict[] vs) =>
        vs.Contains(ClaimVerdict.NotConfirmed) ? ClaimVerdict.NotConfirmed
        : vs.All(v => v == ClaimVerdict.Confirmed) ? ClaimVerdict.Confirmed
        : ClaimVerdict.Inconclusive;
}
