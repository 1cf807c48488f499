namespace XsaveLab.Sim.Measure;

/// <summary>The machine's state around a measurement: the 1-minute load average (<c>/proc/loadavg</c>), the CPU
/// count, and this process's involuntary context switches so far (the <c>nonvoluntary_ctxt_switches</c> of
/// every thread in <c>/proc/self/task/*/status</c>: a thread preempted while runnable, which a timing loop never
/// asks for). Fields are null where Linux does not provide them.</summary>
public sealed record MachineLoad(double? LoadAverage1, int Cpus, long? InvoluntarySwitches, long TimestampTicks)
{
    public static MachineLoad Read() =>
        new(ReadLoadAverage(), Environment.ProcessorCount, ReadInvoluntarySwitches(), Environment.TickCount64);

    private static double? ReadLoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ', 2)[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ReadInvoluntarySwitches()
    {
        try
        {
            long sum = 0;
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                string status;
                try { status = File.ReadAllText(Path.Combine(task, "status")); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // thread exited
                foreach (var line in status.Split('\n'))
                    if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal)
                        && long.TryParse(line.AsSpan("nonvoluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture, out var n))
                        sum += n;
            }
            return sum;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>Is a measured figure trustworthy? Warnings when the run-to-run spread, the machine's load or
/// preemption of the measuring threads makes it unreliable, each with how to get a quiet run.</summary>
/// <remarks>Thresholds (docs/simulator.md, "Measurement quality"): spread above <see cref="MaxSpreadPct"/> is
/// wider than the differences the experiment looks for; a load average above <see cref="MaxLoadPerCpu"/> per CPU
/// means other work competes for the CPUs; more than <see cref="MaxInvoluntaryPerSecond"/> involuntary switches
/// per second means a timing loop was preempted; a held-out calibration error above
/// <see cref="MaxHeldOutErrorPct"/> means the fitted model misses the machine.</remarks>
public static class MeasurementQuality
{
    public const double MaxSpreadPct = 5;
    public const double MaxLoadPerCpu = 0.5;
    public const double MaxInvoluntaryPerSecond = 20;
    public const double MaxHeldOutErrorPct = 15;

    public const string QuietRunAdvice =
        "for a quiet run, stop other work (builds, tests, browsers) until /proc/loadavg's first figure is well below " +
        "the CPU count, then run again";

    /// <summary>Warnings for a measurement that started at <paramref name="before"/> and ended at
    /// <paramref name="after"/>; empty when nothing is wrong.</summary>
    /// <param name="pingPong">The measurement is a pipe ping-pong: a woken partner on the same CPU preempts the
    /// writer before it blocks, so involuntary switches are part of the workload, not a sign of other work.</param>
    public static IReadOnlyList<string> Assess(string what, MachineLoad before, MachineLoad after, double? spreadPct = null,
        double? heldOutErrorPct = null, bool pingPong = false)
    {
        var w = new List<string>();
        var inv = CultureInfo.InvariantCulture;
        if (spreadPct is { } s && (!double.IsFinite(s) || s > MaxSpreadPct))
            w.Add(string.Create(inv, $"{what}: run-to-run spread {s:F1} % is above {MaxSpreadPct:F0} %: the figure is unreliable"));
        if (heldOutErrorPct is { } h && (!double.IsFinite(h) || h > MaxHeldOutErrorPct))
            w.Add(string.Create(inv, $"{what}: worst held-out error {h:F1} % is above {MaxHeldOutErrorPct:F0} %: the fitted model is unreliable"));
        double? load = Max(before.LoadAverage1, after.LoadAverage1);
        if (load is { } l && l > MaxLoadPerCpu * before.Cpus)
            w.Add(string.Create(inv, $"{what}: load average {l:F2} on {before.Cpus} CPUs (above {MaxLoadPerCpu:F1} per CPU): other work competed for the CPUs"));
        if (!pingPong && before.InvoluntarySwitches is { } i0 && after.InvoluntarySwitches is { } i1)
        {
            double secs = Math.Max(0.001, (after.TimestampTicks - before.TimestampTicks) / 1000.0);
            double rate = (i1 - i0) / secs;
            if (rate > MaxInvoluntaryPerSecond)
                w.Add(string.Create(inv, $"{what}: {Numbers.Int(i1 - i0)} involuntary context switches in {secs:F1} s ({Numbers.Real(rate, 0)}/s, above {MaxInvoluntaryPerSecond:F0}/s): the timing loop was preempted"));
        }
        if (w.Count > 0)
            w.Add(QuietRunAdvice);
        return w;
    }

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
}
