using Spectre.Console;

namespace XsaveLab.Cli.Cli;

/// <summary>What every command needs from the outside: where to write. Passed to the command factories so
/// the whole CLI runs in-process against any pair of writers (tests use <see cref="StringWriter"/>).</summary>
public sealed class CliContext(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;
    public TextWriter Err { get; } = stderr;

    /// <summary>A Spectre console over <see cref="Out"/>: colours only on a real terminal, a fixed width
    /// otherwise so that redirected output does not depend on the terminal. An exported <c>COLUMNS</c> sets the
    /// width of the process's own stdout (a pty whose size is unknown would otherwise give 80 columns, too narrow
    /// for the experiment table).</summary>
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
        if (stdout && int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns >= 40)
            console.Profile.Width = columns;
        else if (!terminal)
            console.Profile.Width = 160;
        return console;
    }

    /// <summary>The one error path: one line on stderr, exit code 2.</summary>
    public int Fail(string message)
    {
        Err.WriteLine($"error: {message}");
        return 2;
    }
}
