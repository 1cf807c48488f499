namespace XsaveLab.Cli.Tests;

/// <summary><c>kvm --vmm NAME --print</c>: the built-in sequence as a script file that runs as the built-in does, and the
/// headline and outcome a pitfall run prints.</summary>
public sealed class KvmPrintTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-print-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Pitfalls() => [.. BuiltinScripts.All.Keys.Where(k => k.StartsWith("pitfall-", StringComparison.Ordinal))];

    [Theory]
    [MemberData(nameof(Pitfalls))]
    [InlineData("qemu")]
    public void A_printed_template_runs_as_the_built_in_does(string name)
    {
        var printed = CliRunner.Run("kvm", "--vmm", name, "--print");
        Assert.True(printed.ExitCode == 0, printed.ToString());
        Assert.Equal(BuiltinScripts.Template(name), printed.Out);

        string file = Path.Combine(_dir, name + ".txt");
        var written = CliRunner.Run("kvm", "--vmm", name, "--print", "-o", file);
        Assert.True(written.ExitCode == 0, written.ToString());
        Assert.Equal("", written.Out);
        Assert.Equal(printed.Out, File.ReadAllText(file));

        var builtin = CliRunner.Run("kvm", "--cpu", "spr", "--vmm", name, "--format", "json");
        var fromFile = CliRunner.Run("kvm", "--cpu", "spr", "--vmm", file, "--format", "json");
        Assert.True(builtin.ExitCode == 0 && fromFile.ExitCode == 0, builtin + "\n" + fromFile);
        static string Steps(string json) => JsonDocument.Parse(json).RootElement.GetProperty("steps").GetRawText();
        Assert.Equal(Steps(builtin.Out), Steps(fromFile.Out));
    }

    [Theory]
    [MemberData(nameof(Pitfalls))]
    public void A_pitfall_starts_with_its_headline_and_ends_with_its_outcome(string name)
    {
        var r = CliRunner.Run("kvm", "--cpu", "spr", "--vmm", name);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Out.TrimEnd('\n').Split('\n');
        var headline = BuiltinScripts.Headline(name)!;
        Assert.StartsWith($"Pitfall: {headline.What.Split(' ')[0]}", lines[1]);
        // The last lines are the outcome (wrapped), after the expectations' summary.
        int outcome = Array.FindLastIndex(lines, l => l.StartsWith("Outcome on spr, kernel 6.17", StringComparison.Ordinal));
        Assert.True(outcome > Array.FindIndex(lines, l => l.StartsWith("All expectations met", StringComparison.Ordinal)), r.Out);
        Assert.Contains("the pitfall shows", string.Join(' ', lines[outcome..]));

        var json = JsonDocument.Parse(CliRunner.Run("kvm", "--cpu", "spr", "--vmm", name, "--format", "json").Out).RootElement.GetProperty("pitfall");
        Assert.Equal(headline.Kernels, json.GetProperty("kernels").GetString());
        Assert.StartsWith("Outcome on spr", json.GetProperty("outcome").GetString());
    }

    [Fact]
    public void Print_refuses_a_script_file_and_output_needs_print()
    {
        Assert.Contains("--print", CliRunner.OneError(CliRunner.Run("kvm", "--vmm", "/etc/hostname", "--print")));
        Assert.Contains("--output", CliRunner.OneError(CliRunner.Run("kvm", "-o", Path.Combine(_dir, "x.txt"))));
        Assert.False(File.Exists(Path.Combine(_dir, "x.txt")));
        Assert.Contains("directory", CliRunner.OneError(CliRunner.Run("kvm", "--print", "-o", _dir)));
    }
}
