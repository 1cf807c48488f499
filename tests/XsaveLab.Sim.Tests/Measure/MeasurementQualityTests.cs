namespace XsaveLab.Sim.Tests.Measure;

public class MeasurementQualityTests
{
    private static MachineLoad At(double load, long involuntary, long ms) => new(load, 2, involuntary, ms);

    [Fact]
    public void A_quiet_run_with_a_narrow_spread_gets_no_warning() =>
        Assert.Empty(MeasurementQuality.Assess("m", At(0.1, 10, 0), At(0.2, 12, 5000), spreadPct: MeasurementQuality.MaxSpreadPct / 2, heldOutErrorPct: 3));

    [Fact]
    public void Spread_load_preemption_and_fit_error_each_warn_and_say_how_to_get_a_quiet_run()
    {
        var spread = MeasurementQuality.Assess("m", At(0.1, 0, 0), At(0.1, 0, 1000), spreadPct: MeasurementQuality.MaxSpreadPct * 2);
        Assert.Contains(spread, w => w.Contains("spread"));
        var load = MeasurementQuality.Assess("m", At(2 * MeasurementQuality.MaxLoadPerCpu * 2, 0, 0), At(0.1, 0, 1000));
        Assert.Contains(load, w => w.Contains("load average"));
        var preempted = MeasurementQuality.Assess("m", At(0.1, 0, 0), At(0.1, (long)MeasurementQuality.MaxInvoluntaryPerSecond * 3, 1000));
        Assert.Contains(preempted, w => w.Contains("involuntary"));
        Assert.Empty(MeasurementQuality.Assess("m", At(0.1, 0, 0), At(0.1, (long)MeasurementQuality.MaxInvoluntaryPerSecond * 3, 1000), pingPong: true));
        var fit = MeasurementQuality.Assess("m", At(0.1, 0, 0), At(0.1, 0, 1000), heldOutErrorPct: MeasurementQuality.MaxHeldOutErrorPct + 1);
        Assert.Contains(fit, w => w.Contains("held-out"));
        var nan = MeasurementQuality.Assess("m", At(0.1, 0, 0), At(0.1, 0, 1000), spreadPct: double.NaN);
        Assert.NotEmpty(nan);
        foreach (var ws in new[] { spread, load, preempted, fit, nan })
            Assert.Equal(MeasurementQuality.QuietRunAdvice, ws[^1]);
    }

    [SkippableFact]
    public void This_machines_load_and_switch_counts_are_readable_on_linux()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs /proc");
        var l = MachineLoad.Read();
        Assert.True(l.LoadAverage1 >= 0);
        Assert.True(l.InvoluntarySwitches >= 0);
        Assert.Equal(Environment.ProcessorCount, l.Cpus);
    }
}
