namespace XsaveLab.Cli.Tests;

/// <summary>The conventions every command shares, checked over the real command tree (a new command is checked
/// without being listed here; its sample comes from <see cref="CommandSamples"/>): one hex style (<c>0x</c>, lower
/// case) in text and JSON outside the kernel's own log lines, help for every command, one metavariable convention
/// for every option and argument, a refused <c>--format</c> value that names the option, and one severity per
/// sanity finding whichever command shows it.</summary>
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

    /// <summary>The kernel's own log lines a command prints (boot's dmesg, read from its JSON).</summary>
    private static HashSet<string> KernelLogLines(string command, string[] args)
    {
        if (command != "boot")
            return [];
        using var doc = JsonDocument.Parse(CliRunner.Run([.. args, "--format", "json"]).Out);
        return [.. doc.RootElement.GetProperty("dmesg").EnumerateArray().Select(e => e.GetString()!)];
    }
}
