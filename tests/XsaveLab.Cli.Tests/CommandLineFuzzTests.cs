namespace XsaveLab.Cli.Tests;

/// <summary>The command line as a whole, fuzzed: argument vectors generated from the real command tree (the
/// parser's own model of commands, options and their accepted values) with mutated values, run in-process. Every
/// run must exit 0, 1 or 2, never print the internal-error line or a stack trace, and say exactly one
/// <c>error:</c> line when it exits 2. Seeded (FUZZ_SEED), FUZZ_ITERATIONS inputs (default 2,000), each under a
/// time and allocation bound; a failure prints the seed, the input and a shrunk input.</summary>
public sealed class CommandLineFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int DefaultIterations = 2_000;
    private const int DefaultSeed = 20_261_202;
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(60);
    private const long MaxAllocatedBytes = 2L << 30;

    /// <summary>Commands that answer from the model in milliseconds; the others (calibration, measurement, live
    /// checks, file import) are fuzzed through parsing only: their vectors end in an unknown option or --help.</summary>
    private static readonly HashSet<string> Invoked = ["layout", "boot", "kvm", "cpus", "compat", "image", "variants"];

    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : fallback;

    [Fact]
    public void GeneratedCommandLinesKeepTheContract()
    {
        int seed = EnvInt("FUZZ_SEED", DefaultSeed);
        int iterations = EnvInt("FUZZ_ITERATIONS", DefaultIterations);
        var gen = new Generator(new Random(seed), _dir);
        for (int i = 0; i < iterations; i++)
        {
            var args = gen.Next();
            if (Check(args) is { } problem)
            {
                var minimal = Shrink(args);
                Assert.Fail($"seed {seed}, input {i}: {problem}\n  input:   {Show(args)}\n  minimal: {Show(minimal)}\n  ({Check(minimal)})");
            }
        }
        output.WriteLine($"seed {seed}: {iterations} command lines");
    }

    /// <summary>Inputs that once broke the contract (crash, stack trace, two-line error, a hang or a huge
    /// allocation).</summary>
    [Theory]
    [InlineData("host", "check", "--cases", "0")]
    [InlineData("host", "check", "--cases", "--no-such-option")]
    [InlineData("layout", "--cpu", "spr", "--xcr0", "0x3\n")]
    [InlineData("boot", "--kernel", "6.17\n")]
    [InlineData("layout", "@/proc/self/cwd")]
    [InlineData("kvm", "--cpu", "spr", "--vmm", "qemu\n")]
    [InlineData("layout", "--cpu", "spr", "--xcr0", "0xffffffffffffffff")]
    [InlineData("layout", "--cpu", "spr", "--xss", "0xffffffffffffffff")]
    [InlineData("boot", "--cpu", "\u001b[2J")]
    public void RegressionCases(params string[] args) => Assert.Null(Check(args));

    private static string Show(IEnumerable<string> args) =>
        string.Join(' ', args.Select(a => "'" + SafeText.Escape(a, 80) + "'"));

    /// <summary>The contract for one input, or what broke it.</summary>
    private static string? Check(IReadOnlyList<string> args)
    {
        CliResult? result = null;
        long allocated = 0;
        Exception? escaped = null;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                result = CliRunner.Run([.. args]);
            }
            catch (Exception e)
            {
                escaped = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, maxStackSize: 16 << 20)
        { IsBackground = true };
        thread.Start();
        if (!thread.Join(PerInput))
            return $"no answer within {PerInput.TotalSeconds} s";
        if (escaped is not null)
            return $"exception escaped Program.Run: {escaped.GetType().Name}: {escaped.Message}";
        var r = result!;
        if (allocated > MaxAllocatedBytes)
            return $"allocated {allocated} bytes";
        if (r.ExitCode is not (0 or 1 or 2))
            return $"exit {r.ExitCode}: {SafeText.Escape(r.Err, 300)}";
        if (r.Err.Contains("internal error", StringComparison.Ordinal))
            return $"internal error: {SafeText.Escape(r.Err, 300)}";
        if ((r.Err + r.Out).Contains("   at ", StringComparison.Ordinal) && (r.Err + r.Out).Contains(".cs:line", StringComparison.Ordinal))
            return "stack trace in the output";
        if (r.ExitCode == 2)
        {
            var lines = r.Err.TrimEnd('\n').Split('\n');
            if (lines.Length != 1 || !lines[0].StartsWith("error: ", StringComparison.Ordinal))
                return $"exit 2 with {lines.Length} stderr lines: {SafeText.Escape(r.Err, 300)}";
        }
        return null;
    }

    /// <summary>Drops arguments one at a time while the input still fails.</summary>
    private static IReadOnlyList<string> Shrink(IReadOnlyList<string> args)
    {
        var current = args.ToList();
        for (bool progress = true; progress;)
        {
            progress = false;
            for (int i = 0; i < current.Count; i++)
            {
                var smaller = current.Where((_, j) => j != i).ToList();
                if (smaller.Count > 0 && Check(smaller) is not null)
                {
                    current = smaller;
                    progress = true;
                    break;
                }
            }
        }
        return current;
    }

    /// <summary>Argument vectors from the command tree.</summary>
    private sealed class Generator
    {
        private readonly Random _rng;
        private readonly RootCommand _root;
        private readonly string[] _paths;

        public Generator(Random rng, string dir)
        {
            _rng = rng;
            _root = Program.CreateRoot(new CliContext(TextWriter.Null, TextWriter.Null), Program.CommandFactories);
            string dump = Path.Combine(RepoPaths.Root, "src/XsaveLab.Arch/Profiles/emr.cpuid");
            _paths = [dump, Path.Combine(dir, "missing.txt"), dir, "", "/", "/proc/self/cwd"];
            // Positional FILE arguments: a valid image, a damaged copy, the paths above.
            byte[] image = ImageCommandTests.PtraceImage("spr", 1);
            string good = Path.Combine(dir, "spr.xstate"), bad = Path.Combine(dir, "damaged.xstate");
            File.WriteAllBytes(good, image);
            File.WriteAllBytes(bad, [.. image[..600], 0xff, 0xff]);
            _arguments = [good, bad, .. _paths, .. CpuCatalog.Names, "host"];
        }

        private readonly string[] _arguments;

        private T Pick<T>(IReadOnlyList<T> items) => items[_rng.Next(items.Count)];

        public IReadOnlyList<string> Next()
        {
            var args = new List<string>();
            Command cmd = Pick(_root.Subcommands.ToList());
            args.Add(cmd.Name);
            while (cmd.Subcommands.Count > 0 && _rng.Next(3) > 0)
            {
                cmd = Pick(cmd.Subcommands.ToList());
                args.Add(cmd.Name);
            }
            var options = cmd.Options.Where(o => o.Name is not ("--help" or "--version")).ToList();
            int n = options.Count == 0 ? 0 : _rng.Next(Math.Min(options.Count, 4) + 1);
            for (int i = 0; i < n; i++)
                AddOption(args, Pick(options));
            foreach (var _ in cmd.Arguments)
                args.Add(_rng.Next(3) == 0 ? Mutate(Pick(_arguments)) : Pick(_arguments));
            if (_rng.Next(20) == 0)
                args.Insert(_rng.Next(1, args.Count + 1), Mutate(Pick(["--bogus", "extra", "-", "--", "@" + _paths[1]])));
            if (!Invoked.Contains(args[0]) || args.Contains("--html") || args.Contains("--output") || args.Contains("-o"))
                // Right after the command's first word: appended, it could become the value of a trailing option
                // (--output --no-such-option) and let the command run.
                args.Insert(1, _rng.Next(2) == 0 ? "--help" : "--no-such-option");
            return args;
        }

        private void AddOption(List<string> args, Option option)
        {
            string name = _rng.Next(4) == 0 && option.Aliases.Count > 0 ? Pick(option.Aliases.ToList()) : option.Name;
            args.Add(name);
            if (option.ValueType == typeof(bool))
            {
                if (_rng.Next(4) == 0)
                    args.Add(Mutate(Pick(["true", "false", "yes", "1"])));
                return;
            }
            if (_rng.Next(30) == 0)
                return; // the value is missing
            var valid = Valid(option);
            string value = valid.Count > 0 && _rng.Next(3) > 0 ? Pick(valid) : Typed(option);
            args.Add(_rng.Next(3) == 0 ? Mutate(value) : value);
        }

        /// <summary>Values the option accepts: the parser's completions (AcceptOnlyFromAmong), else by name.</summary>
        private List<string> Valid(Option option)
        {
            var completions = option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
            if (completions.Count > 0)
                return completions;
            return option.Name switch
            {
                "--cpu" => [.. CpuCatalog.Names],
                "--cpuid" or "--cost-model" or "--html" or "--output" or "--out" => [.. _paths],
                "--kernel" => ["6.15", "6.16", "6.17", "case3", "deferred", "v3", "v4"],
                "--vmm" => [.. BuiltinScripts.All.Keys, _paths[1], _paths[2]],
                "--xcr0" or "--xss" => ["0x3", "0x7", "0x2e7", "0x602e7", "0x1800", "0x0", "0xffffffffffffffff", "e7", "0x6_02e7"],
                _ => [],
            };
        }

        private string Typed(Option option)
        {
            if (option.ValueType == typeof(int) || option.ValueType == typeof(long))
                return Pick(["0", "1", "-1", "2", "200", "1000", "2147483647", "-2147483648", "99999999999", "0x10", "1e3", ""]);
            if (option.ValueType == typeof(double))
                return Pick(["0", "0.5", "-1", "NaN", "Infinity", "-Infinity", "1e308", "1e-308", "5", "abc"]);
            return Pick(["", "x", "spr", "0x", "--", "-1", "0xZZ", "∞", "a b", "@", _paths[1]]);
        }

        private string Mutate(string value) => _rng.Next(10) switch
        {
            0 => value + "\n",
            1 => "\u001b[31m" + value + "\u0007",
            2 => "",
            3 => string.Concat(Enumerable.Repeat(value.Length == 0 ? "x" : value, 2000)),
            4 => value + "\0",
            5 => value.ToUpperInvariant(),
            6 => " " + value + " ",
            7 => value + "\r\n",
            8 => value.Length > 1 ? value[..(value.Length / 2)] : value + value,
            _ => "-" + value,
        };
    }
}
