using System.CommandLine;
using System.CommandLine.Parsing;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Cli.Cli;
using XsaveLab.Cli.Commands;

namespace XsaveLab.Cli;

/// <summary>Entry point. Commands are listed once in <see cref="CommandFactories"/>; each lives in its own
/// file under Commands/ and builds its <see cref="Command"/> from a <see cref="CliContext"/>.</summary>
public static class Program
{
    /// <summary>Every top-level command. To add one: write <c>Commands/FooCommand.cs</c> with
    /// <c>public static Command Create(CliContext ctx)</c> and add it here.</summary>
    public static readonly IReadOnlyList<Func<CliContext, Command>> CommandFactories =
    [
        ReportCommand.Create,
        LayoutCommand.Create,
        CpusCommand.Create,
        CatalogCommand.Create,
        BootCommand.Create,
        KvmCommand.Create,
        HostCheckCommand.Create,
        BenchCommand.Create,
        MeasureCommand.Create,
        CalibrateCommand.Create,
        ExperimentCommand.Create,
    ];

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the CLI in-process. Exit codes: 0 success, 1 failure of the checked thing (reserved for
    /// commands that check), 2 bad input (one line <c>error: …</c> on <paramref name="stderr"/>).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var ctx = new CliContext(stdout, stderr);
        var root = new RootCommand(
            "xsavelab: a validated model of x86 XSAVE state - CPU layouts, the Linux FPU core and KVM guest state.");
        foreach (var factory in CommandFactories)
            root.Add(factory(ctx));

        // Without a command the user most likely wants to know what there is.
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Errors.Count > 0)
        {
            var path = new List<string>();
            for (var r = parse.CommandResult; r != null && r.Command is not RootCommand; r = r.Parent as CommandResult)
                path.Insert(0, r.Command.Name);
            string where = string.Join(' ', ["xsavelab", .. path, "--help"]);
            // "xsavelab bogus" reports a missing command before the unknown word; the unknown word says more.
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            string message = string.Join(' ', error.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                .Replace("as expected type 'System.Int32'", "as an integer", StringComparison.Ordinal)
                .Replace("as expected type 'System.Double'", "as a number", StringComparison.Ordinal);
            return ctx.Fail($"{message} (see '{where}')");
        }
        try
        {
            return parse.Invoke(Invocation(stdout, stderr));
        }
        catch (UserErrorException e)
        {
            return ctx.Fail(e.Message);
        }
        catch (CpuProfileFormatException e)
        {
            return ctx.Fail(e.Message);
        }
    }

    private static InvocationConfiguration Invocation(TextWriter stdout, TextWriter stderr) =>
        new() { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
}
