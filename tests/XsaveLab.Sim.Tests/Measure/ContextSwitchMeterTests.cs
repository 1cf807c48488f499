namespace XsaveLab.Sim.Tests.Measure;

[Collection(TimingCollection.Name)]
public class ContextSwitchMeterTests
{
    private static ContextSwitchOptions Short(PingPongMode mode, VectorState state) => new()
    {
        Mode = mode,
        State = state,
        Runs = 3,
        RunDuration = TimeSpan.FromMilliseconds(150),
        Warmup = TimeSpan.FromMilliseconds(50),
    };

    [SkippableTheory]
    [InlineData(PingPongMode.Threads, VectorState.Init)]
    [InlineData(PingPongMode.Threads, VectorState.Wide)]
    [InlineData(PingPongMode.Processes, VectorState.Init)]
    [InlineData(PingPongMode.Processes, VectorState.Wide)]
    public void Ping_pong_switches_and_reports_each_run(PingPongMode mode, VectorState state)
    {
        var o = Short(mode, state);
        var why = ContextSwitchMeter.Unavailable(o);
        Skip.If(why is not null, why);
        var m = ContextSwitchMeter.Measure(o);
        Assert.Equal(3, m.SwitchesPerSecond.Count);
        Assert.All(m.SwitchesPerSecond, s => Assert.True(s > 0, $"a run made no switches: {string.Join(", ", m.SwitchesPerSecond)}"));
        Assert.True(m.TotalSwitches % 2 == 0, "two switches per round trip");
        Assert.InRange(m.Median, m.SwitchesPerSecond.Min(), m.SwitchesPerSecond.Max());
        Assert.True(m.SpreadPct >= 0);
    }

    [SkippableFact]
    public void Vector_state_reaches_xinuse_during_the_loop()
    {
        var why = ContextSwitchMeter.Unavailable(Short(PingPongMode.Threads, VectorState.Wide));
        Skip.If(why is not null, why);
        using var engine = PingPongEngine.Create();
        Skip.IfNot(engine.HasXgetbv1, "CPU lacks XGETBV with ECX=1");
        var wide = ContextSwitchMeter.Measure(Short(PingPongMode.Threads, VectorState.Wide) with { Runs = 1 });
        var init = ContextSwitchMeter.Measure(Short(PingPongMode.Threads, VectorState.Init) with { Runs = 1 });
        // Loaded non-zero ⇒ XINUSE set for every wide component; loaded with XSTATE_BV = 0 ⇒ all clear.
        Assert.Equal(engine.WideMask, wide.XinUseMeasuring!.Value & engine.WideMask);
        Assert.Equal(0UL, init.XinUseMeasuring!.Value & engine.WideMask);
    }

    [SkippableFact]
    public void Process_mode_leaves_no_child_behind()
    {
        var o = Short(PingPongMode.Processes, VectorState.AsIs) with { Runs = 1 };
        var why = ContextSwitchMeter.Unavailable(o);
        Skip.If(why is not null, why);
        ContextSwitchMeter.Measure(o);
        // waitpid(-1, WNOHANG) reports ECHILD (or 0 for children of other tests still running) — never a zombie of ours.
        var children = Directory.GetDirectories($"/proc/{Environment.ProcessId}/task")
            .SelectMany(t => File.Exists(Path.Combine(t, "children")) ? File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries) : [])
            .Where(pid => File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains(ContextSwitchMeter.PartnerName))
            .ToList();
        Assert.Empty(children);
    }

    [Fact]
    public void Bad_options_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContextSwitchOptions { Runs = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContextSwitchOptions { RunDuration = TimeSpan.Zero }.Validate());
    }

    [Fact]
    public void Spread_and_median_follow_their_definitions()
    {
        double[] xs = [100, 110, 90, 105];
        Assert.Equal(102.5, Stats.Median(xs));
        Assert.Equal(20 / 102.5 * 100, Stats.SpreadPct(xs), 9);
    }
}
