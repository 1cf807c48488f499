namespace XsaveLab.Sim.Tests.Report;

public class ChartAxisTests
{
    [Theory]
    [InlineData(new[] { 24.0, 488, 2384 }, true)] // the bytes-per-switch chart: 24-byte bars beside 2384-byte ones
    [InlineData(new[] { 1.0, 100 }, true)]
    [InlineData(new[] { 576.0, 2560, 11008 }, false)]
    [InlineData(new[] { 0.0, 10, 150 }, false)] // zero bars do not count: they are drawn as nothing on any axis
    public void Log_exactly_when_the_bars_differ_by_the_ratio(double[] values, bool log)
    {
        var a = ChartAxis.For(values);
        var pos = values.Where(v => v > 0).ToList();
        Assert.Equal(pos.Max() / pos.Min() >= ChartAxis.LogRatio, a.Log);
        Assert.Equal(log, a.Log);
        Assert.Contains(a.Log ? "log scale" : "linear scale from 0", a.Caption);
    }

    [Theory]
    [InlineData(new[] { 24.0, 488, 2384 })]
    [InlineData(new[] { 576.0, 2560, 11008 })]
    [InlineData(new[] { 0.3, 0.9, 700 })]
    public void Every_bar_is_visible_and_ordered_and_ticks_lie_on_the_axis(double[] values)
    {
        var a = ChartAxis.For(values);
        var f = values.Order().Select(a.Fraction).ToList();
        Assert.All(f, x => Assert.InRange(x, 0.04, 1));
        Assert.Equal(f.Order(), f);
        Assert.All(a.Ticks, t => Assert.InRange(a.Fraction(t), 0, 1));
        Assert.Equal(0, a.Fraction(0));
        if (!a.Log)
            Assert.Equal(0, a.Low);
    }
}
