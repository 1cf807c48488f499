namespace XsaveLab.Cli.Tests;

/// <summary>One short, valid command line for every command of the real command tree, for the suites that run every
/// command (<see cref="NarrowTerminalTests"/>, <see cref="ConsistencyTests"/>). Placeholders in braces are files
/// made in a scratch directory of the instance. A command without a sample fails
/// <see cref="NarrowTerminalTests.EveryCommandHasASample"/>.</summary>
internal sealed class CommandSamples : IDisposable
{
    /// <summary>A command line for one command (after the command's own words), and whether its figures are timed
    /// (different on every run, so only their form is checked).</summary>
    public sealed record Sample(string[] Args, bool Timed = false);

    public static readonly IReadOnlyDictionary<string, Sample> All = new Dictionary<string, Sample>
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

    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-samples-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The real command tree, as the program builds it.</summary>
    public static RootCommand Root() => Program.CreateRoot(new CliContext(TextWriter.Null, TextWriter.Null), Program.CommandFactories);

    /// <summary>Every command of the tree by its words (<c>bench sim</c>), with the command; the root is "".</summary>
    public static IEnumerable<(string Path, Command Command)> Tree()
    {
        var stack = new Stack<(Command Cmd, string Path)>([(Root(), "")]);
        while (stack.Count > 0)
        {
            var (cmd, path) = stack.Pop();
            yield return (path, cmd);
            foreach (var sub in cmd.Subcommands)
                stack.Push((sub, path.Length == 0 ? sub.Name : path + " " + sub.Name));
        }
    }

    /// <summary>Every command that does something (has an action), by its words.</summary>
    public static IEnumerable<string> CommandPaths() => Tree().Where(c => c.Command.Action is not null && c.Path.Length > 0).Select(c => c.Path);

    /// <summary>The whole argument vector of a command's sample, placeholders filled.</summary>
    public string[] Args(string command)
    {
        Assert.True(All.TryGetValue(command, out var sample), $"'{command}' has no sample in {nameof(CommandSamples)}");
        return [.. command.Split(' '), .. sample.Args.Select(Fill)];
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
}
