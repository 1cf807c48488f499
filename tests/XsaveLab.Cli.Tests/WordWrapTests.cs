using XsaveLab.Cli.Rendering;

namespace XsaveLab.Cli.Tests;

/// <summary>Where a table cell may break: at spaces and after a list separator, never between a figure and its
/// unit, and never glueing an operator to the word after it.</summary>
public class WordWrapTests
{
    [Theory]
    [InlineData(10)] // the width of "(10.8 KiB)": a column is never narrower than its longest word
    [InlineData(12)]
    [InlineData(16)]
    public void A_figure_keeps_its_binary_unit_on_its_line(int width)
    {
        var lines = WordWrap.Lines("11,008 bytes (10.8 KiB) and 2,600,960 B (2.48 MiB)", width);
        Assert.Contains(lines, l => l.Contains("(10.8 KiB)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("(2.48 MiB)", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.False(l.TrimEnd().EndsWith("(10.8", StringComparison.Ordinal), l));
    }

    [Theory]
    [InlineData(12)]
    [InlineData(30)]
    [InlineData(80)]
    public void A_standalone_bar_keeps_its_spaces(int width)
    {
        string joined = string.Join(" ", WordWrap.Lines("__state_perm = permitted | requested, supervisor bits kept", width).Select(l => l.Trim()));
        Assert.Contains("permitted | requested", joined, StringComparison.Ordinal);
        Assert.DoesNotContain("|requested", joined, StringComparison.Ordinal);
    }

    [Fact]
    public void A_feature_list_still_breaks_after_its_separator()
    {
        var lines = WordWrap.Lines("x87|SSE|AVX|opmask|ZMM_Hi256", 12);
        Assert.True(lines.Count > 1);
        Assert.Equal("x87|SSE|AVX|opmask|ZMM_Hi256", string.Concat(lines.Select(l => l.Trim())));
    }
}
