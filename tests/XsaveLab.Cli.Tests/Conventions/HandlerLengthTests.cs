namespace XsaveLab.Cli.Tests.Conventions;

/// <summary>A command handler parses its options, calls one library entry point and hands the result to one
/// renderer, so it stays short: no <c>SetAction</c> lambda under src/XsaveLab.Cli/Commands is longer than
/// <see cref="MaxLines"/> lines.</summary>
public sealed class HandlerLengthTests
{
    private const int MaxLines = 15;

    private static string CommandsDir => Path.Combine(RepoPaths.Root, "src", "XsaveLab.Cli", "Commands");

    [Fact]
    public void NoCommandHandlerIsLongerThanFifteenLines()
    {
        var files = Directory.GetFiles(CommandsDir, "*.cs", SearchOption.AllDirectories);
        var handlers = files.SelectMany(f => HandlerScanner.Handlers(File.ReadAllText(f))
            .Select(h => (File: Path.GetRelativePath(RepoPaths.Root, f), h.Line, h.Lines))).ToList();
        // Every command in Program.CommandFactories has at least one handler; finding fewer means the scan is broken.
        Assert.True(handlers.Count >= Program.CommandFactories.Count, $"found only {handlers.Count} SetAction calls in {CommandsDir}");
        var tooLong = handlers.Where(h => h.Lines > MaxLines).Select(h => $"{h.File}:{h.Line}: {h.Lines} lines").ToList();
        Assert.True(tooLong.Count == 0, $"handlers longer than {MaxLines} lines:\n{string.Join('\n', tooLong)}");
    }

    [Fact]
    public void TheScannerMeasuresHandlersAndIgnoresParenthesesInTextAndComments()
    {
        string body = string.Join('\n', Enumerable.Range(0, 14).Select(i => $"    Work{i}(\"(\", $\"{{Call(\"(\")}} )\", '(', @\"\"\"(\"); // ("));
        string source = $"cmd.SetAction(parse =>\n{{\n{body}\n}});\nother.SetAction(p => 0); /* SetAction( */ var s = \"SetAction(\";";
        var handlers = HandlerScanner.Handlers(source);
        Assert.Equal([new HandlerScanner.Handler(1, 17), new HandlerScanner.Handler(18, 1)], handlers);
    }
}
