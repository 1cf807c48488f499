namespace XsaveLab.Cli.Tests;

/// <summary>The conventions every command shares, checked over the real command tree (a new command is checked
/// without being listed here; its sample comes from <see cref="CommandSamples"/>): one hex style (<c>0x</c>, lower
/// case) in text and JSON outside the kernel's own log lines, help for every command, one metavariable convention
/// for every option and argument, one number style (<see cref="XsaveLab.Arch.Text.Numbers"/>) in text, a refused
/// <c>--format</c> value that names the option, and one severity per sanity finding whichever command shows it.</summary>
public sealed partial class ConsistencyTests(ITestOutputHelper output) : IDisposable
{
    private readonly CommandSamples _samples = new();

    public void Dispose() => _samples.Dispose();

    public static TheoryData<string> Commands() => [.. CommandSamples.CommandPaths().Order(StringComparer.Ordinal)];

    /// <summary>Every node of the tree, groups and the root included ("" is the root).</summary>
    public static TheoryData<string> Nodes() => [.. CommandSamples.Tree().Select(c => c.Path).Order(StringComparer.Ordinal)];

    /// <summary>Hex in the wrong style: <c>0x</c> with an upper-case digit (<c>0xE7</c>, <c>0xD.0</c>), an upper-case
    /// <c>0X</c>, a run of upper-case hex digits without prefix (<c>60FC762CE6E36CF1</c>), or an AMD-style
    /// <c>19h</c>/<c>1Ah</c>.</summary>
    [GeneratedRegex(@"(?<![0-9A-Za-z_])(?:0x[0-9a-fA-F]*[A-F][0-9a-fA-F]*|0X[0-9a-fA-F]+|(?=[0-9A-F]*[A-F])(?=[0-9A-F]*[0-9])[0-9A-F]{8,}|[0-9][0-9A-F]*h)(?![0-9A-Za-z_])")]
    private static partial Regex WrongHex();

    /// <summary>A metavariable: placeholders in capitals (<c>NAME</c>, <c>FILE</c>, <c>N</c>) and literal values in
    /// lower case, alternatives joined by <c>|</c>; a list repeats its item as <c>ITEM[,ITEM...]</c>. A lone lower-case
    /// word is what the parser makes up from the option's name (<c>&lt;cases&gt;</c>), never a convention.</summary>
    [GeneratedRegex(@"^(?:(?:[A-Z][A-Z0-9_]*|[a-z0-9][a-z0-9.\-]*)(?:\|(?:[A-Z][A-Z0-9_]*|[a-z0-9][a-z0-9.\-]*))+|[A-Z][A-Z0-9_]*(?:\[,[A-Z][A-Z0-9_]*\.\.\.\])?)$")]
    private static partial Regex Metavariable();

    [Theory]
    [MemberData(nameof(Commands))]
    public void Text_and_json_have_no_upper_case_hex(string command)
    {
        string[] args = _samples.Args(command);
        var text = CliRunner.Run(args);
        output.WriteLine($"{string.Join(' ', args)}: exit {text.ExitCode}");
        Assert.True(text.ExitCode is 0 or 1, text.ToString());
        var kernel = KernelLogLines(command, args);
        var bad = (text.Out + "\n" + text.Err).Split('\n')
            .Where(l => !kernel.Contains(l.TrimEnd('\r')))
            .SelectMany(l => WrongHex().Matches(l).Select(m => $"{m.Value} in: {l.Trim()}"))
            .ToList();
        Assert.True(bad.Count == 0, $"{bad.Count} upper-case hex in the text of {command}:\n{string.Join('\n', bad.Take(20))}");

        if (!HasFormat(command))
            return;
        var json = CliRunner.Run([.. args, "--format", "json"]);
        Assert.True(json.ExitCode is 0 or 1, json.ToString());
        using var doc = JsonDocument.Parse(json.Out);
        var badJson = Strings(doc.RootElement, "$")
            .SelectMany(s => WrongHex().Matches(s.Value).Select(m => $"{m.Value} at {s.Path}: {s.Value}"))
            .ToList();
        Assert.True(badJson.Count == 0, $"{badJson.Count} upper-case hex in the JSON of {command}:\n{string.Join('\n', badJson.Take(20))}");
    }

    /// <summary>A decimal integer of five or more digits without thousands separators (<c>11952</c>, <c>2600960</c>).
    /// Not a number: part of a word or hex figure (<c>0x61ee7</c>, <c>c0ffee12345</c>), a path or file name
    /// (<c>/tmp/x-12345</c>), a dotted version or decimal fraction (<c>6.17</c>, <c>0.00265</c>), a mail or message id
    /// (<c>&lt;20250318153316.1970147-4-…@…&gt;</c>), an already grouped figure (<c>11,952</c>) or a seed
    /// (<c>seed 20250318</c>, <c>--seed 42</c>), which is an identifier that is typed back, not a quantity.</summary>
    [GeneratedRegex(@"(?<![\w.,/\\<@#]|\w-|seed[\s:=]*|seeds?[\s:=]+(?:[\d,]+\s*)*)-?[1-9][0-9]{4,}(?![\w@>]|\.\d+\.|-\d)", RegexOptions.IgnoreCase)]
    private static partial Regex UngroupedInteger();

    /// <summary>A byte count of at least 10 KiB written as bytes (<c>11,008 bytes</c>, <c>2,600,960 B</c>) that is not
    /// followed by its figure in KiB or MiB (<c>11,008 bytes (10.8 KiB)</c>), as <see cref="XsaveLab.Arch.Text.Numbers.Bytes"/>
    /// writes it.</summary>
    [GeneratedRegex(@"(?<![\w.,/])(?<n>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{5,})\s+(?:bytes|B)(?![\w\-])(?!\s*\(\s*[0-9.]+\s+[KM]iB)")]
    private static partial Regex BytesWithoutBinary();

    /// <summary>The number-style offences in a command's text, kernel log lines left out: ungrouped integers from
    /// 10,000 up, and byte counts from 10 KiB up without a KiB/MiB figure;
    /// <paramref name="byteDumps"/> are memory contents printed as hex bytes without a prefix (host check's
    /// comparisons), which are not numbers.</summary>
    internal static List<string> NumberStyleOffences(string text, IReadOnlySet<string> kernelLogLines, IReadOnlySet<string>? byteDumps = null)
    {
        string joined = string.Join('\n', text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => !kernelLogLines.Contains(l)));
        var ungrouped = UngroupedInteger().Matches(joined)
            .Where(m => byteDumps?.Contains(m.Value) != true)
            .Select(m => $"ungrouped {m.Value} in: {LineAt(joined, m.Index)}");
        var bytes = BytesWithoutBinary().Matches(joined)
            .Where(m => long.Parse(m.Groups["n"].Value.Replace(",", ""), CultureInfo.InvariantCulture) >= 10 * 1024)
            .Where(m => !BinaryInNextCellLine(joined, m.Index + m.Length))
            .Select(m => $"{m.Value.Trim()} without KiB/MiB in: {LineAt(joined, m.Index)}");
        return [.. ungrouped, .. bytes];
    }

    /// <summary>Whether a table cell that ends at <paramref name="index"/> continues on the next line with the KiB/MiB
    /// figure (a narrow cell wraps "2,600,960 B (2.48 MiB)" after the unit, and maybe again before "MiB").</summary>
    private static bool BinaryInNextCellLine(string text, int index)
    {
        int start = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        int end = text.IndexOf('\n', index);
        if (end < 0)
            return false;
        string line = text[start..end];
        int col = index - start;
        int left = line.LastIndexOf('│', Math.Max(0, col - 1));
        int right = line.IndexOf('│', col);
        if (left < 0 || right < 0 || line[col..right].Trim().Length > 0)
            return false;
        int nextEnd = text.IndexOf('\n', end + 1);
        string next = text[(end + 1)..(nextEnd < 0 ? text.Length : nextEnd)];
        return next.Length > right && Regex.IsMatch(next[(left + 1)..right], @"^\s*\(\s*[0-9.]+(?:\s+[KM]iB|\s*$)");
    }

    private static string LineAt(string text, int index)
    {
        int start = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        int end = text.IndexOf('\n', index);
        return text[start..(end < 0 ? text.Length : end)].Trim();
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Text_numbers_follow_the_one_number_style(string command)
    {
        string[] args = _samples.Args(command);
        var text = CliRunner.Run(args);
        output.WriteLine($"{string.Join(' ', args)}: exit {text.ExitCode}");
        Assert.True(text.ExitCode is 0 or 1, text.ToString());
        var bad = NumberStyleOffences(text.Out + "\n" + text.Err, KernelLogLines(command, args), ByteDumps(command, args));
        Assert.True(bad.Count == 0, $"{bad.Count} numbers out of style in the text of {command}:\n{string.Join('\n', bad.Take(20))}");
    }

    /// <summary>The number-style check itself: it flags the forms the renderers used to print and passes the ones
    /// that are not quantities, so a renderer that falls back to plain digits fails the theory above.</summary>
    [Theory]
    [InlineData("guest fpstate 2560 B in both; for 1000 threads + 8 vCPUs: 2600960 B vs 2600960 B", 4)]
    [InlineData("│ AT_MINSIGSTKSZ │ 11,952 │ round_up(736 + 15 + fpu__get_fpstate_size() 11124 + 63, 16) │", 1)]
    [InlineData("│    6 │ KVM_CHECK_EXTENSION      │  11008 │", 1)]
    [InlineData("KVM_SET_XSAVE: 11008-byte image into a 11,008-byte uabi buffer", 1)]
    [InlineData("size 11,008 bytes", 1)]
    [InlineData("size 11,008 bytes (10.8 KiB), 2,600,960 B (2.48 MiB), 10,239 bytes, 2560 B", 0)]
    [InlineData("XCR0 0x61ee7, address 0x7ffd12345678, commit 1a2b3c4d5e, v6.17, 0.00265 ns, 2026-12-03", 0)]
    [InlineData("(seed 20250318), seeds 12345, 67890; --seed 4242424, seed: 99999", 0)]
    [InlineData("source: v4 3/8 <20250318153316.1970147-4-chao.gao@intel.com>; /tmp/xsavelab-samples-123456/spr.txt", 0)]
    [InlineData("-12345 ns, 12345.5 ns", 2)]
    [InlineData("│ memory │  2,600,960 B │\n│        │ (2.48 MiB)   │", 0)]
    [InlineData("│ memory │  2,600,960 B │\n│        │ per task     │", 1)]
    public void The_number_style_check_flags_plain_figures(string text, int offences)
    {
        var bad = NumberStyleOffences(text, new HashSet<string>());
        Assert.True(bad.Count == offences, $"{bad.Count} offences, expected {offences}:\n{string.Join('\n', bad)}");
    }

    /// <summary>The kernel's own log lines keep the kernel's format: they are left out of the check.</summary>
    [Fact]
    public void Kernel_log_lines_are_left_out_of_the_number_style_check()
    {
        const string line = "signal: max sigframe size: 11952";
        Assert.Single(NumberStyleOffences(line, new HashSet<string>()));
        Assert.Empty(NumberStyleOffences(line, new HashSet<string> { line }));
    }

    [Theory]
    [MemberData(nameof(Nodes))]
    public void Every_help_prints_usage(string node)
    {
        string[] args = [.. node.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"];
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0 && r.Err.Length == 0, r.ToString());
        Assert.Contains("Usage:", r.Out);
        Assert.Contains("Description:", r.Out);
        // The usage line names the command's words after the program's name (which differs under a test host).
        Assert.Matches($@"Usage:\s*\n\s+\S+{Regex.Escape(node.Length == 0 ? "" : " " + node)}( |$)", r.Out);
    }

    [Theory]
    [MemberData(nameof(Nodes))]
    public void Every_metavariable_follows_the_convention(string node)
    {
        var cmd = CommandSamples.Tree().Single(c => c.Path == node).Command;
        var help = CliRunner.Run([.. node.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]).Out;
        var lines = help.Split('\n');
        foreach (var option in cmd.Options.Where(o => !o.Hidden && o.ValueType != typeof(bool) && o.Arity.MaximumNumberOfValues > 0))
        {
            // "  -o, --output <OUT>  The file to write": the option's line names it among its aliases.
            string? line = lines.FirstOrDefault(l => Regex.IsMatch(l, $@"^\s+(?:\S+, )*{Regex.Escape(option.Name)}(?:, \S+)* <"));
            Assert.True(line is not null, $"{node}: no '{option.Name} <…>' line in:\n{help}");
            var m = Regex.Match(line, "<([^>]*)>");
            Assert.True(Metavariable().IsMatch(m.Groups[1].Value), $"{node} {option.Name}: metavariable <{m.Groups[1].Value}> breaks the convention (capitals for a placeholder, value|value for choices)");
        }
        foreach (var argument in cmd.Arguments)
            Assert.True(Metavariable().IsMatch(argument.HelpName ?? argument.Name), $"{node}: argument <{argument.HelpName ?? argument.Name}> breaks the convention");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Unknown_format_names_the_option(string command)
    {
        if (!HasFormat(command))
            return;
        string error = CliRunner.OneError(CliRunner.Run([.. _samples.Args(command), "--format", "yaml"]));
        Assert.Contains("--format", error);
        Assert.Contains("'yaml'", error);
        Assert.Contains("text, json", error);
    }

    /// <summary>A dump whose leaf 0xD breaks an architectural rule (MAX_SIZE, an error) and carries a quirk (Zen 2's
    /// 64-byte PKRU, a warning): <c>layout</c> and <c>report</c> show each finding with the same severity, in text
    /// and JSON.</summary>
    [Fact]
    public void A_finding_has_one_severity_in_layout_and_report()
    {
        var p = CpuCatalog.Get("zen2-castle-peak");
        var leaves = p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == 0 ? l with { Ecx = l.Ecx + 64 } : l).ToList();
        string dump = Path.Combine(Path.GetTempPath(), $"xsavelab-severity-{Environment.ProcessId}.txt");
        File.WriteAllText(dump, CpuidTextWriter.Write(new CpuProfile("zen2-edited", p.Source, leaves)));
        try
        {
            var layout = Findings(CliRunner.Run("layout", "--cpuid", dump, "--format", "json"), "findings");
            var report = Findings(CliRunner.Run("report", "--cpuid", dump, "--format", "json"), "findings");
            Assert.Equal("error", layout["MAX_SIZE"]);
            Assert.Equal("warning", layout["COMPONENT_SIZE"]);
            foreach (var (code, severity) in layout)
                Assert.Equal((code, severity), (code, report[code]));
            string text = CliRunner.Run("layout", "--cpuid", dump).Out;
            string reportText = CliRunner.Run("report", "--cpuid", dump).Out;
            foreach (var (code, severity) in layout)
            {
                Assert.Contains($"{severity}: {code}:", text);
                Assert.Matches($@"│ {severity}\s+│ {code}\s", reportText);
            }
        }
        finally
        {
            File.Delete(dump);
        }
    }

    private static Dictionary<string, string> Findings(CliResult r, string key)
    {
        Assert.True(r.ExitCode is 0 or 1, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        return doc.RootElement.GetProperty(key).EnumerateArray()
            .ToDictionary(f => f.GetProperty("code").GetString()!, f => f.GetProperty("severity").GetString()!);
    }

    private static bool HasFormat(string command) =>
        CommandSamples.Tree().Single(c => c.Path == command).Command.Options.Any(o => o.Name == "--format");

    /// <summary>Every string of a JSON document with its path, except the kernel's own log lines (<c>dmesg</c>), which
    /// are reproduced as the kernel prints them.</summary>
    private static IEnumerable<(string Path, string Value)> Strings(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                yield return (path, e.GetString()!);
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var x in e.EnumerateArray())
                    foreach (var s in Strings(x, $"{path}[{i++}]"))
                        yield return s;
                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject().Where(p => p.Name != "dmesg"))
                {
                    foreach (var s in Strings(p.Value, $"{path}.{p.Name}"))
                        yield return s;
                }
                break;
        }
    }

    /// <summary>The memory contents host check compares, as it prints them (hex bytes in memory order, no prefix;
    /// a long one cut after eight bytes): each leading run of hex digits, read from its JSON.</summary>
    private static HashSet<string> ByteDumps(string command, string[] args)
    {
        if (command != "host check")
            return [];
        using var doc = JsonDocument.Parse(CliRunner.Run([.. args, "--format", "json"]).Out);
        return [.. doc.RootElement.GetProperty("observables").EnumerateArray()
            .SelectMany(o => new[] { o.GetProperty("model").GetString()!, o.GetProperty("actual").GetString()! })
            .Select(v => Regex.Match(v, "^(?:[0-9a-f]{2})+(?=…|$)").Value).Where(v => v.Length > 0)];
    }

    /// <summary>The kernel's own log lines a command prints (boot's dmesg, read from its JSON).</summary>
    private static HashSet<string> KernelLogLines(string command, string[] args)
    {
        if (command != "boot")
            return [];
        using var doc = JsonDocument.Parse(CliRunner.Run([.. args, "--format", "json"]).Out);
        return [.. doc.RootElement.GetProperty("dmesg").EnumerateArray().Select(e => e.GetString()!)];
    }
}
