namespace XsaveLab.Cli.Tests;

/// <summary>What reaches a terminal from an input is escaped and bounded; an error is always one line; a defect is
/// one line and exit 70, never a stack trace.</summary>
public sealed class MessageSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-msg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AHugeOptionValueGivesAShortOneLineError()
    {
        string huge = new string('z', 5_000_000) + "\n" + new string('y', 1000);
        var msg = CliRunner.OneError(CliRunner.Run("layout", "--cpu", "spr", "--xcr0", huge));
        Assert.True(msg.Length < 4 * SafeText.MaxExcerpt, $"{msg.Length} characters");
        Assert.Contains("--xcr0", msg);
    }

    [Theory]
    [InlineData("layout", "--cpu", "spr\n")]
    [InlineData("boot", "--kernel", "6.17\n")]
    [InlineData("boot", "--kernel", "6.17\r\n")]
    [InlineData("layout", "--format", "json\n")]
    [InlineData("layout", "--cpu", "spr", "--xcr0", "0x3\n\n")]
    [InlineData("kvm", "--cpu", "spr", "--vmm", "qemu\n")]
    [InlineData("host", "check", "--cases", "12\n")]
    public void AValueEndingInANewlineGivesOneErrorLine(params string[] args)
    {
        var r = CliRunner.Run(args);
        if (r.ExitCode == 2)
            CliRunner.OneError(r);
        Assert.DoesNotContain('\r', r.Err);
    }

    [Fact]
    public void ControlCharactersInAnErrorAreEscaped()
    {
        var msg = CliRunner.OneError(CliRunner.Run("boot", "--kernel", "a\u001b]0;title\u0007b"));
        Assert.DoesNotContain('\u001b', msg);
        Assert.DoesNotContain('\u0007', msg);
        Assert.Contains("\\x1b", msg);
    }

    /// <summary>A dump whose brand string holds ESC and BEL (leaf 0x80000002): the layout header shows them escaped.</summary>
    [Fact]
    public void ABrandStringWithEscAndBelDoesNotReachTheTerminalRaw()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "src/XsaveLab.Arch/Profiles/emr.cpuid"));
        int i = Array.FindIndex(lines, l => l.TrimStart().StartsWith("0x80000002 0x00:", StringComparison.Ordinal));
        Assert.True(i >= 0, "the profile has a brand string leaf");
        // "\e[31" and "\a" + "m!!": little-endian register bytes.
        lines[i] = "   0x80000002 0x00: eax=0x31335b1b ebx=0x21216d07 ecx=0x4f455820 edx=0x2952284e";
        string dump = Path.Combine(_dir, "brand.cpuid");
        File.WriteAllLines(dump, lines);
        var r = CliRunner.Run("layout", "--cpuid", dump);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain('\u001b', r.Out);
        Assert.DoesNotContain('\u0007', r.Out);
        Assert.Contains("\\x1b[31", r.Out);
        Assert.Contains("\\x07m!!", r.Out);
        // JSON keeps the brand as data, escaped the JSON way.
        var j = CliRunner.Run("boot", "--cpuid", dump, "--format", "json");
        Assert.DoesNotContain('\u001b', j.Out);
    }

    [Fact]
    public void AnUnexpectedExceptionIsOneLineAndExit70()
    {
        Func<CliContext, Command> broken = _ =>
        {
            var c = new Command("broken");
            c.SetAction(_ => ((int[])[])[1]);
            return c;
        };
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.Run(["broken"], o, e, [broken]);
        Assert.True(code == Program.InternalError, $"exit {code}: {e}{o}");
        var lines = e.ToString().TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: internal error (please report): IndexOutOfRangeException", lines[0]);
        Assert.DoesNotContain("   at ", e.ToString() + o);
    }

    /// <summary>"This machine cannot" (calibrate, measure, bench) takes the one error path: one escaped, capped line,
    /// exit 1, nothing on stdout, and warnings from a renderer are escaped the same way.</summary>
    [Fact]
    public void NotAvailableAndWarningsAreEscapedOneLiners()
    {
        string reason = "no timer\n\u001b[31m" + new string('x', 3 * SafeText.MaxLine);
        Func<CliContext, Command> missing = _ =>
        {
            var c = new Command("missing");
            c.SetAction(int (_) => throw new NotAvailableException(reason));
            return c;
        };
        Func<CliContext, Command> warns = ctx =>
        {
            var c = new Command("warns");
            c.SetAction(_ => ctx.Render(OutputFormat.Json, reason, new WarningRenderer()));
            return c;
        };
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(1, Program.Run(["missing"], o, e, [missing]));
        Assert.Equal("", o.ToString());
        var line = Assert.Single(e.ToString().TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: no timer\\n\\x1b[31m", line);
        Assert.True(line.Length < SafeText.MaxLine + 100, $"{line.Length} characters");
        e.GetStringBuilder().Clear();
        Assert.Equal(0, Program.Run(["warns"], o, e, [warns]));
        line = Assert.Single(e.ToString().TrimEnd('\n').Split('\n'));
        Assert.StartsWith("warning: no timer\\n\\x1b[31m", line);
        Assert.DoesNotContain('\u001b', e.ToString());
    }

    private sealed class WarningRenderer : IRenderer<string>
    {
        public object ToJson(string result) => result.Length;

        public void RenderText(Spectre.Console.IAnsiConsole console, string result) { }

        public IEnumerable<string> Warnings(string result) => [result];
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("100001")]
    public void HostCheckCasesOutOfRangeIsRefusedBeforeAnyWork(string cases)
    {
        var msg = CliRunner.OneError(CliRunner.Run("host", "check", "--cases", cases));
        Assert.Contains("--cases", msg);
        Assert.Contains($"{Commands.HostCheckCommand.MinCases}..{Commands.HostCheckCommand.MaxCases}", msg);
    }

    [Theory]
    [InlineData("1000000", true, 500)]
    [InlineData("1000000", false, 500)]
    [InlineData("120", false, 120)]
    [InlineData("10", false, 160)]
    [InlineData("not a number", false, 160)]
    [InlineData(null, false, 160)]
    public void ColumnsIsCapped(string? columns, bool terminal, int width)
    {
        Assert.Equal(width, CliContext.Width(columns, terminal));
        Assert.InRange(width, CliContext.MinColumns, CliContext.MaxColumns);
    }

    [Fact]
    public void ColumnsOnATerminalWithoutAValueLeavesTheTerminalWidth() => Assert.Null(CliContext.Width(null, terminal: true));

    /// <summary>An option the command would ignore for this CPU is refused, not dropped silently.</summary>
    [Theory]
    [InlineData("nehalem")]
    [InlineData("haswell")]
    public void XssForACpuWithoutXsavesIsRefused(string cpu)
    {
        Assert.False(XsaveLab.Arch.Catalog.CpuCatalog.TryGet(cpu, out var p) && p.HasXsaves, $"{cpu} has XSAVES");
        Assert.Contains("--xss", CliRunner.OneError(CliRunner.Run("layout", "--cpu", cpu, "--xss", "0x0")));
        Assert.Equal(0, CliRunner.Run("layout", "--cpu", cpu).ExitCode);
    }
}
