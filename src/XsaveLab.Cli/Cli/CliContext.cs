using Spectre.Console;
namespace XsaveLab.Cli.Cli;

/// <summary>What every command needs from the outside: where to write. Passed to the command factories so
/// the whole CLI runs in-process against any pair of writers (tests use <see cref="StringWriter"/>).</summary>
public sealed class CliContext(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;
    public TextWriter Err { get; } = stderr;

    /// <summary>The narrowest <c>COLUMNS</c> honoured (narrower tables would wrap every cell).</summary>
    public const int MinColumns = 40;

    /// <summary>The widest <c>COLUMNS</c> honoured.</summary>
    public const int MaxColumns = 500;

    /// <summary>A Spectre console over <see cref="Out"/>: colours only on a real terminal, a fixed width
    /// otherwise so that redirected output does not depend on the terminal. An exported <c>COLUMNS</c> sets the
    /// width of the process's own stdout (a pty whose size is unknown would otherwise give 80 columns, too narrow
    /// for the experiment table).</summary>
    /// <remarks><c>COLUMNS</c> below <see cref="MinColumns"/> is ignored and above <see cref="MaxColumns"/> is
    /// capped: every table fits in 500 columns, and a huge value would only pad each line with spaces.</remarks>
    public IAnsiConsole CreateConsole()
    {
        bool stdout = ReferenceEquals(Out, Console.Out);
        bool terminal = stdout && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Out),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (Width(stdout ? Environment.GetEnvironmentVariable("COLUMNS") : null, terminal) is int width)
            console.Profile.Width = width;
        return new SafeConsole(console);
    }

    /// <summary>The width for a <c>COLUMNS</c> value (null: not exported, or not the process's stdout): clamped to
    /// <see cref="MaxColumns"/>, ignored below <see cref="MinColumns"/>; 160 for redirected output, the terminal's
    /// own width (null) otherwise.</summary>
    public static int? Width(string? columns, bool terminal) =>
        int.TryParse(columns, out int c) && c >= MinColumns ? Math.Min(c, MaxColumns)
        : terminal ? null : 160;

    /// <summary>Writes <paramref name="result"/> in the chosen format with <paramref name="renderer"/> and returns
    /// the exit code the result means.</summary>
    public int Render<T>(OutputFormat format, T result, IRenderer<T> renderer)
    {
        foreach (var w in renderer.Warnings(result))
            Err.WriteLine($"warning: {SafeText.Line(w)}");
        if (format == OutputFormat.Json)
            Json.Write(Out, renderer.ToJson(result));
        else
            renderer.RenderText(CreateConsole(), result);
        return renderer.ExitCode(result);
    }

    /// <summary>The one error path: one line on stderr, exit code 2. The message is made safe for a terminal
    /// (<see cref="SafeText.Line"/>): control characters escaped, at most a bounded length.</summary>
    public int Fail(string message) => Fail(message, 2);

    /// <summary>As <see cref="Fail(string)"/> with another exit code (1: this machine cannot do what was asked).</summary>
    public int Fail(string message, int exitCode)
    {
        Err.WriteLine($"error: {SafeText.Line(message)}");
        return exitCode;
    }
}
