namespace XsaveLab.Cli.Tests;

/// <summary>Every command of the real command tree, run as its own process with <c>COLUMNS=80</c>: no line longer
/// than 80 characters except the kernel's own log lines, which appear whole; no number split across lines (every
/// number is well formed, and a command whose output does not depend on timing shows the same numbers as at 200
/// columns). A command without a sample in <see cref="CommandSamples"/> fails <see cref="EveryCommandHasASample"/>.</summary>
public sealed class NarrowTerminalTests(ITestOutputHelper output) : IDisposable
{
    private const int Narrow = 80;
    private const int Wide = 200;

    private readonly CommandSamples _samples = new();

    public void Dispose() => _samples.Dispose();

    public static IEnumerable<string> CommandPaths() => CommandSamples.CommandPaths();

    public static TheoryData<string> Commands() => [.. CommandPaths().Order(StringComparer.Ordinal)];

    [Fact]
    public void EveryCommandHasASample()
    {
        var paths = CommandPaths().ToHashSet();
        var missing = paths.Where(p => !CommandSamples.All.ContainsKey(p)).ToList();
        Assert.True(missing.Count == 0, $"commands without a sample in {nameof(CommandSamples)}: {string.Join(", ", missing)}");
        var stale = CommandSamples.All.Keys.Where(k => !paths.Contains(k)).ToList();
        Assert.True(stale.Count == 0, $"samples for commands that do not exist: {string.Join(", ", stale)}");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void FitsEightyColumns(string command)
    {
        Assert.True(CommandSamples.All.TryGetValue(command, out var sample), $"'{command}' has no sample (see {nameof(EveryCommandHasASample)})");
        string[] args = _samples.Args(command);
        var narrow = CliProcess.Run(Narrow, args);
        output.WriteLine($"{string.Join(' ', args)}: exit {narrow.ExitCode}, {narrow.Out.Split('\n').Length} lines");
        Assert.True(narrow.ExitCode is 0 or 1, narrow.ToString());
        Assert.Equal("", narrow.Err.Split('\n').FirstOrDefault(l => l.StartsWith("error: internal", StringComparison.Ordinal)) ?? "");

        var kernelLines = KernelLogLines(command, sample);
        var lines = narrow.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        foreach (var k in kernelLines)
            Assert.True(lines.Contains(k), $"kernel log line not printed whole:\n{k}\n{narrow}");
        var tooLong = lines.Where(l => l.Length > Narrow && !kernelLines.Contains(l)).ToList();
        Assert.True(tooLong.Count == 0, $"{tooLong.Count} lines longer than {Narrow}:\n{string.Join('\n', tooLong)}");

        var malformed = NumberTokens(narrow.Out).Where(t => !WellFormed(t)).ToList();
        Assert.True(malformed.Count == 0, $"numbers split or malformed: {string.Join(", ", malformed)}\n{narrow.Out}");
        if (sample.Timed)
            return;
        var wide = CliProcess.Run(Wide, args);
        var a = NumberTokens(narrow.Out).ToHashSet();
        var b = NumberTokens(wide.Out).ToHashSet();
        Assert.True(a.SetEquals(b), $"numbers differ between {Narrow} and {Wide} columns: only narrow {string.Join(", ", a.Except(b))}; only wide {string.Join(", ", b.Except(a))}");
    }

    /// <summary>The splitter itself: a word is never cut, whatever the width it is given room for.</summary>
    [Theory]
    [InlineData("2,600,960 B", 9)]
    [InlineData("0xD.0 XCR0 0x602e7 (x87|SSE|AVX|opmask|ZMM_Hi256|Hi16_ZMM|PKRU|XTILECFG|XTILEDATA), EBX 11008", 12)]
    [InlineData("guest fpstate 2560 bytes,\n  guest: wrmsr IA32_PL0_SSP 0xffff800000001000: ok", 20)]
    public void WrappingKeepsWordsWhole(string text, int width)
    {
        width = Math.Max(width, Rendering.WordWrap.LongestWord(text));
        var lines = Rendering.WordWrap.Lines(text, width);
        Assert.All(lines, l => Assert.True(l.Length <= width, l));
        var words = text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).SelectMany(w => w.Split('|')).Where(w => w.Length > 0);
        var printed = string.Join(' ', lines).Split([' '], StringSplitOptions.RemoveEmptyEntries).SelectMany(w => w.Split('|')).ToHashSet();
        Assert.All(words, w => Assert.Contains(w, printed));
    }

    /// <summary>The kernel's own log lines a command prints: boot's dmesg, read from its JSON.</summary>
    private static HashSet<string> KernelLogLines(string command, CommandSamples.Sample sample)
    {
        if (command != "boot")
            return [];
        var json = CliProcess.Run(Narrow, ["boot", .. sample.Args, "--format", "json"]);
        using var doc = JsonDocument.Parse(json.Out);
        return [.. doc.RootElement.GetProperty("dmesg").EnumerateArray().Select(e => e.GetString()!)];
    }

    /// <summary>Numbers as printed: hex, and decimal with ',' thousands and '.' fractions (versions too).</summary>
    internal static IEnumerable<string> NumberTokens(string text) =>
        Regex.Matches(text, @"(?<![\w.])(?:0x[0-9a-fA-F]+|\d+(?:[.,]\d+)*)").Select(m => m.Value);

    /// <summary>Hex, a plain or dotted number, or a number grouped by thousands (a fragment such as <c>2,6</c> or
    /// <c>00,</c> of a split <c>2,600,960</c> is not).</summary>
    private static bool WellFormed(string t) =>
        Regex.IsMatch(t, @"^(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)*|[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?)$");
}
