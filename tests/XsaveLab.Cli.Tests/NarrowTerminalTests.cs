namespace XsaveLab.Cli.Tests;

/// <summary>Every command of the real command tree, run as its own process with <c>COLUMNS=80</c>: no line longer
/// than 80 characters except the kernel's own log lines, which appear whole; no number split across lines (every
/// number is well formed, and a command whose output does not depend on timing shows the same numbers as at 200
/// columns). A command without a sample here fails <see cref="EveryCommandHasASample"/>.</summary>
public sealed class NarrowTerminalTests(ITestOutputHelper output) : IDisposable
{
    private const int Narrow = 80;
    private const int Wide = 200;

    /// <summary>A command line for one command (after the command's own words), and whether its figures are timed
    /// (different on every run, so only their form is checked).</summary>
    private sealed record Sample(string[] Args, bool Timed = false);

    private static readonly Dictionary<string, Sample> Samples = new()
    {
        ["report"] = new(["--cpu", "spr"]),
        ["layout"] = new(["--cpu", "spr"]),
        ["cpus"] = new([]),
        ["catalog import"] = new(["{dump}", "--name", "sample", "--description", "a sample dump", "--out", "{dir}"]),
        ["boot"] = new(["--cpu", "spr"]),
        ["kvm"] = new(["--cpu", "spr"]),
        ["host check"] = new(["--cases", "1"], Timed: true),
        ["bench"] = new([], Timed: true),
        ["bench sim"] = new(["--cpu", "spr", "--tasks", "100", "--switches", "1000"], Timed: true),
        ["measure context-switch"] = new(["--mode", "threads", "--vectors", "init", "--runs", "1", "--seconds", "0.1"], Timed: true),
        ["calibrate"] = new(["--no-measure"], Timed: true),
        ["experiment cet-s"] = new(["--cpu", "spr", "--no-measure"]),
        ["explore"] = new(["--kernel", "6.17", "--depth", "1", "--vcpus", "1", "--no-timing"]),
        ["bench explore"] = new(["--depth", "1"], Timed: true),
        ["compat"] = new(["icx", "zen4-genoa"]),
        ["image decode"] = new(["{ptrace}", "--kind", "ptrace", "--cpu", "spr"]),
        ["image convert"] = new(["{ptrace}", "--kind", "ptrace", "--from-cpu", "spr", "--to", "compacted", "-o", "{out}"]),
        ["image diff"] = new(["{ptrace}", "{ptrace}", "--kind", "ptrace", "--cpu", "spr"]),
        ["image validate"] = new(["{ptrace}", "--for", "ptrace", "--cpu", "spr"]),
        ["variants"] = new([]),
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-narrow-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Every command that does something (has an action), by its words: <c>bench sim</c>.</summary>
    public static IEnumerable<string> CommandPaths()
    {
        var root = Program.CreateRoot(new CliContext(TextWriter.Null, TextWriter.Null), Program.CommandFactories);
        var stack = new Stack<(Command Cmd, string Path)>(root.Subcommands.Select(c => (c, c.Name)));
        while (stack.Count > 0)
        {
            var (cmd, path) = stack.Pop();
            if (cmd.Action is not null)
                yield return path;
            foreach (var sub in cmd.Subcommands)
                stack.Push((sub, path + " " + sub.Name));
        }
    }

    public static TheoryData<string> Commands() => [.. CommandPaths().Order(StringComparer.Ordinal)];

    [Fact]
    public void EveryCommandHasASample()
    {
        var paths = CommandPaths().ToHashSet();
        var missing = paths.Where(p => !Samples.ContainsKey(p)).ToList();
        Assert.True(missing.Count == 0, $"commands without a sample in {nameof(NarrowTerminalTests)}.{nameof(Samples)}: {string.Join(", ", missing)}");
        var stale = Samples.Keys.Where(k => !paths.Contains(k)).ToList();
        Assert.True(stale.Count == 0, $"samples for commands that do not exist: {string.Join(", ", stale)}");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void FitsEightyColumns(string command)
    {
        Assert.True(Samples.TryGetValue(command, out var sample), $"'{command}' has no sample (see {nameof(EveryCommandHasASample)})");
        string[] args = [.. command.Split(' '), .. sample.Args.Select(Fill)];
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

    private string Fill(string arg) => arg switch
    {
        "{dump}" => DumpFile(),
        "{dir}" => _dir,
        "{out}" => Path.Combine(_dir, "converted.xstate"),
        "{ptrace}" => Save("spr.xstate", ImageCommandTests.PtraceImage("spr", 1)),
        _ => arg,
    };

    private string DumpFile()
    {
        string path = Path.Combine(_dir, "spr.txt");
        File.WriteAllText(path, CpuidTextWriter.Write(CpuCatalog.Get("spr")));
        return path;
    }

    private string Save(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The kernel's own log lines a command prints: boot's dmesg, read from its JSON.</summary>
    private static HashSet<string> KernelLogLines(string command, Sample sample)
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
