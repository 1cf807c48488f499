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
        CompatCommand.Create,
        HostCheckCommand.Create,
        BenchCommand.Create,
        MeasureCommand.Create,
        CalibrateCommand.Create,
        ExperimentCommand.Create,
        ImageCommand.Create,
        ExploreCommand.Create,
        VariantsCommand.Create,
    ];

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The exit code of an unexpected exception (EX_SOFTWARE in sysexits.h): a defect of the program, never
    /// the answer to an input.</summary>
    public const int InternalError = 70;

    /// <summary>Runs the CLI in-process. Exit codes: 0 success, 1 failure of the checked thing (reserved for
    /// commands that check), 2 bad input (one line <c>error: …</c> on <paramref name="stderr"/>), 70 a defect
    /// (one line <c>error: internal error (please report): …</c>, no stack trace).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, CommandFactories);

    /// <summary>As <see cref="Run(string[], TextWriter, TextWriter)"/> with another set of commands (tests give
    /// one that fails in ways the real commands must not).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IReadOnlyList<Func<CliContext, Command>> commands)
    {
        var ctx = new CliContext(stdout, stderr);
        try
        {
            return Dispatch(ctx, args, commands);
        }
        catch (Exception e) when (e is UserErrorException or CpuProfileFormatException or VmmScriptException or KvmRequestException)
        {
            return ctx.Fail(e.Message);
        }
        catch (NotAvailableException e)
        {
            return ctx.Fail(e.Message, 1);
        }
        catch (Exception e)
        {
            // The last line of defence: whatever escaped is a defect, reported in one line without a stack trace.
            stderr.WriteLine($"error: internal error (please report): {SafeText.Line($"{e.GetType().Name}: {e.Message}")}");
            return InternalError;
        }
    }

    /// <summary>The command tree: what the parser knows and what tests generate command lines from.</summary>
    public static RootCommand CreateRoot(CliContext ctx, IReadOnlyList<Func<CliContext, Command>> commands)
    {
        var root = new RootCommand(
            "xsavelab: a validated model of x86 XSAVE state - CPU layouts, the Linux FPU core and KVM guest state.");
        foreach (var factory in commands)
            root.Add(factory(ctx));
        return root;
    }

    private static int Dispatch(CliContext ctx, string[] args, IReadOnlyList<Func<CliContext, Command>> commands)
    {
        var root = CreateRoot(ctx, commands);
        // Without a command the user most likely wants to know what there is. Response files are expanded here,
        // bounded (ResponseFiles), not by the parser.
        IReadOnlyList<string> expanded = args.Length == 0 ? ["--help"] : ResponseFiles.Expand(args);
        var parse = root.Parse(expanded, new ParserConfiguration { ResponseFileTokenReplacer = null });
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
            return ctx.Fail($"{SafeText.Escape(message, SafeText.MaxLine / 2)} (see '{where}')");
        }
        // A hidden command (catalog) stays out of the root's list of commands but still answers its own --help: the
        // parser's help writes nothing for a hidden command, so this run's own tree (built for this call) shows it.
        if (parse.Action is System.CommandLine.Help.HelpAction && parse.CommandResult.Command.Hidden)
            parse.CommandResult.Command.Hidden = false;
        return parse.Invoke(Invocation(ctx.Out, ctx.Err));
    }

    private static InvocationConfiguration Invocation(TextWriter stdout, TextWriter stderr) =>
        new() { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
}
