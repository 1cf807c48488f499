using System.Text.RegularExpressions;
using XsaveLab.Cli.Cli;

namespace XsaveLab.Cli.Tests;

/// <summary>Every command's JSON goes through one writer: one hex style (lower case, <c>0x</c>) and only the
/// escaping JSON requires, whichever layer formatted a value.</summary>
public sealed partial class JsonWriterTests
{
    [GeneratedRegex("\"0x[0-9a-fA-F]*[A-F][0-9a-fA-F]*\"")]
    private static partial Regex UpperHex();

    [Theory]
    [InlineData("0x20EE7", "0x20ee7")]
    [InlineData("0X1F", "0x1f")]
    [InlineData("0x20ee7", "0x20ee7")]
    [InlineData("0xZZ", "0xZZ")]
    [InlineData("0x", "0x")]
    [InlineData("XCR0 0x2E7", "XCR0 0x2E7")]
    public void HexStringsAreLowerCaseAndOtherStringsUntouched(string value, string written) =>
        Assert.Equal(written, HexStringConverter.Normalize(value));

    [Fact]
    public void AnonymousObjectsGetTheSameRules()
    {
        var w = new StringWriter();
        Json.Write(w, new { Mask = "0xABC", Text = "host task's ⊆ set" });
        Assert.Contains("\"mask\": \"0xabc\"", w.ToString());
        Assert.Contains("host task's ⊆ set", w.ToString());
    }

    [Theory]
    [InlineData("kvm", "--cpu", "spr", "--format", "json")]
    [InlineData("kvm", "--cpu", "zen4-genoa", "--kernel", "6.15", "--format", "json")]
    [InlineData("layout", "--cpu", "spr", "--format", "json")]
    [InlineData("boot", "--cpu", "emr", "--kernel", "case3", "--format", "json")]
    [InlineData("cpus", "--format", "json")]
    public void OneHexStyleAndNoNeedlessEscapes(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotMatch(UpperHex(), r.Out);
        Assert.DoesNotContain("\\u00", r.Out);
        Assert.DoesNotContain("\\u22", r.Out);
        using var _ = System.Text.Json.JsonDocument.Parse(r.Out);
    }
}
