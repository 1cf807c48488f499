namespace XsaveLab.Sim.Measure;

/// <summary>Several ping-pong configurations measured one after the other, each checked for load and spread.</summary>
/// <param name="Skipped">Configurations that cannot run here, with the reason.</param>
/// <param name="Warnings">Why a figure may be unreliable, and how to get a quiet run (<see cref="MeasurementQuality"/>).</param>
public sealed record ContextSwitchSuiteResult(
    IReadOnlyList<ContextSwitchMeasurement> Measurements,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<string> Warnings);

public static class ContextSwitchSuite
{
    /// <summary>Every mode × vector state that can run here, and the ones that cannot with why.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (<see cref="ContextSwitchOptions.Validate"/>).</exception>
    public static (IReadOnlyList<ContextSwitchOptions> Plans, IReadOnlyList<string> Skipped) Plan(
        IEnumerable<PingPongMode> modes, IEnumerable<VectorState> states, ContextSwitchOptions template)
    {
        template.Validate();
        var plans = new List<ContextSwitchOptions>();
        var skipped = new List<string>();
        foreach (var m in modes)
            foreach (var v in states)
            {
                var o = template with { Mode = m, State = v };
                if (ContextSwitchMeter.Unavailable(o) is { } why)
                    skipped.Add($"{Name(m)}/{Name(v)}: {why}");
                else
                    plans.Add(o);
            }
        return (plans, skipped);
    }

    public static ContextSwitchSuiteResult Run(IReadOnlyList<ContextSwitchOptions> plans, IReadOnlyList<string> skipped,
        IProgress<(string Stage, double Fraction)>? progress = null)
    {
        var list = new List<ContextSwitchMeasurement>();
        var warnings = new List<string>();
        foreach (var plan in plans)
        {
            string stage = $"{Name(plan.Mode)}, {Name(plan.State)} vectors";
            var before = MachineLoad.Read();
            var m = ContextSwitchMeter.Measure(plan, progress is null ? null : new StageProgress(f => progress.Report((stage, f))));
            warnings.AddRange(MeasurementQuality.Assess(stage, before, MachineLoad.Read(), m.SpreadPct, pingPong: true));
            list.Add(m);
        }
        // The advice closes every group of warnings; say it once, last.
        var distinct = warnings.Where(w => w != MeasurementQuality.QuietRunAdvice).Distinct().ToList();
        if (distinct.Count > 0)
            distinct.Add(MeasurementQuality.QuietRunAdvice);
        return new ContextSwitchSuiteResult(list, skipped, distinct);
    }

    public static string Name(PingPongMode m) => m.ToString().ToLowerInvariant();

    public static string Name(VectorState v) => v.ToString().ToLowerInvariant();

    private sealed class StageProgress(Action<double> a) : IProgress<double>
    {
        public void Report(double value) => a(value);
    }
}
