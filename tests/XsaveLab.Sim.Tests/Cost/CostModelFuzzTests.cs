namespace XsaveLab.Sim.Tests.Cost;

/// <summary>The cost-model reader on mutated files: every input either loads into a model whose predictions are
/// finite, or gives one short <see cref="CostModelFormatException"/> line naming the file and a field. Seeded and
/// reproducible: FUZZ_SEED picks the seed, FUZZ_ITERATIONS the number of inputs (default 2,000); a failure prints
/// the seed and a minimised input.</summary>
public class CostModelFuzzTests(ITestOutputHelper output)
{
    private const string File = "fuzz.json";
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    /// <summary>Inputs that once escaped as other exceptions or printed "± NaN %".</summary>
    public static readonly TheoryData<string> Regressions = new()
    {
        """{"format":"xsavelab-cost-model/1","machine":"m","cpuSignature":"0x0","xcr0":"0x7","save":null,"restore":null}""",
        """{"format":"xsavelab-cost-model/1","machine":"m","cpuSignature":"0x0","xcr0":"0x7","save":{"xsave":null,"xsavec":null},"restore":{}}""",
        """{"format":null,"machine":null,"cpuSignature":null,"xcr0":null,"save":{},"restore":null}""",
        """{"format":"xsavelab-cost-model/1","machine":"m","cpuSignature":"0x0","xcr0":"0x7","save":{},"restore":{},"pairOverlapNs":null}""",
        "[]", "null", "\"x\"", "{}", "", "{\"save\":{\"xsave\":{\"cost\":{\"base\":1e400}}}}",
    };

    [Theory]
    [MemberData(nameof(Regressions))]
    public void Once_failing_inputs_give_one_error_naming_the_file(string json) => Check(json);

    [Fact]
    public void Nan_and_infinite_parameters_are_bad_input_naming_the_field()
    {
        var good = Valid();
        foreach (var bad in new[] { "\"NaN\"", "\"Infinity\"", "\"-Infinity\"" })
        {
            var e = Assert.Throws<CostModelFormatException>(() => CostModelParameters.FromJson(ReplaceFirstCovariance(good, bad), File));
            Assert.Equal(File, e.File);
            Assert.Contains("covariance", e.Field);
            var e2 = Assert.Throws<CostModelFormatException>(() => CostModelParameters.FromJson(good.Replace("\"switchFixedNs\": 1500", $"\"switchFixedNs\": {bad}"), File));
            Assert.Equal("switchFixedNs", e2.Field);
        }
    }

    [Fact]
    public void Mutated_cost_models_load_or_give_one_error()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out var s) ? s : 20251202;
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 2000;
        output.WriteLine($"seed {seed}, {iterations} inputs (FUZZ_SEED / FUZZ_ITERATIONS to change)");
        var rng = new Random(seed);
        string[] bases = [Valid(), ReferenceCostModel.Load().ToJson()];
        var sw = Stopwatch.StartNew();
        int loaded = 0, rejected = 0, i = 0;
        for (; i < iterations; i++)
        {
            string input = Mutate(bases[rng.Next(bases.Length)], rng);
            var failure = Failure(input);
            if (failure is not null)
            {
                string min = Minimise(input, failure.GetType());
                Assert.Fail($"seed {seed}, input {i}: {failure.GetType().Name}: {failure.Message}\nminimal input ({min.Length} chars): {min}");
            }
            if (Loads(input)) loaded++; else rejected++;
            if (FuzzIterationsFromEnv() is null && sw.Elapsed > Budget)
                break;
        }
        output.WriteLine($"{loaded} loaded, {rejected} rejected with one error, in {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(i >= 2000 || FuzzIterationsFromEnv() is not null, $"only {i} inputs within {Budget.TotalSeconds} s");
        Assert.True(loaded > 0 && rejected > 0, "the mutator should produce both usable and unusable files");
    }

    [Fact]
    public void The_file_reader_refuses_directories_huge_files_and_non_utf8_naming_the_path()
    {
        var dir = Directory.CreateTempSubdirectory("xsavelab-costmodel-").FullName;
        try
        {
            var huge = Path.Combine(dir, "huge.json");
            using (var f = new FileStream(huge, FileMode.CreateNew))
                f.SetLength(64L << 20); // sparse: refused after reading at most the limit
            var binary = Path.Combine(dir, "binary.json");
            System.IO.File.WriteAllBytes(binary, [0x7B, 0xFF, 0xFE, 0x7D]);
            var empty = Path.Combine(dir, "empty.json");
            System.IO.File.WriteAllText(empty, "");
            foreach (var path in new[] { dir, huge, binary, empty, Path.Combine(dir, "missing.json"), "/dev/zero" })
            {
                var e = Assert.Throws<CostModelFormatException>(() => CostModelParameters.Load(path));
                Assert.Equal(path, e.File);
                Assert.DoesNotContain('\n', e.Message);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int? FuzzIterationsFromEnv() =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), out var n) && n > 0 ? n : null;

    private static string Valid()
    {
        var sizes = new ComponentBytes(new Dictionary<int, int> { [2] = 256, [5] = 64, [6] = 512, [7] = 1024 });
        return (Calibrator.Run(new SyntheticTimer(sizes, XFeatureMasks.FpSse | XFeatureMasks.Ymm | XFeatureMasks.Avx512, 1, 3)).Parameters
            with
        { SwitchFixedNs = 1500, SwitchSpreadPct = 2, MeasuredSwitchesPerSecond = 3e5 }).ToJson();
    }

    private static string ReplaceFirstCovariance(string json, string with)
    {
        int at = json.IndexOf("\"covariance\": [", StringComparison.Ordinal);
        int num = json.IndexOfAny("-0123456789".ToCharArray(), at + 15);
        int end = json.IndexOfAny(",\n]".ToCharArray(), num);
        return json[..num] + with + json[end..];
    }

    private static void Check(string json)
    {
        var failure = Failure(json);
        Assert.True(failure is null, $"{failure?.GetType().Name}: {failure?.Message}\ninput: {json}");
    }

    private static bool Loads(string json)
    {
        try { CostModelParameters.FromJson(json, File); return true; }
        catch (CostModelFormatException) { return false; }
    }

    /// <summary>Null when the input loads into a usable model or is refused by one error naming the file; else
    /// what went wrong.</summary>
    private static Exception? Failure(string json)
    {
        try
        {
            var p = CostModelParameters.FromJson(json, File);
            var m = new CostModel(p);
            var sizes = new ComponentBytes(new Dictionary<int, int> { [2] = 256 });
            var save = CostModel.SaveCounts(SaveInstruction.Xsaves, 7, 7, sizes);
            var restore = CostModel.RestoreCounts(7, 3, sizes, true);
            double ns = m.SwitchNs(SaveInstruction.Xsaves, save, restore);
            var (mean, sd) = m.SwitchDifferenceNs(SaveInstruction.Xsaves, (save, restore), (CostModel.SaveCounts(SaveInstruction.Xsaves, 3, 3, sizes), restore));
            if (!double.IsFinite(ns) || !double.IsFinite(mean) || !double.IsFinite(sd))
                return new InvalidDataException($"loaded, but predicts ns={ns} mean={mean} sd={sd}");
            return null;
        }
        catch (CostModelFormatException e)
        {
            if (e.File != File || string.IsNullOrEmpty(e.Field) || e.Message.Contains('\n') || e.Message.Length > 600)
                return new InvalidDataException($"badly formed error: {e.Message}");
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Drops chunks (halving their size) while the same kind of failure remains.</summary>
    private static string Minimise(string input, Type failure)
    {
        for (int chunk = Math.Max(1, input.Length / 2); chunk >= 1; chunk /= 2)
            for (int at = 0; at + chunk <= input.Length;)
            {
                var candidate = input.Remove(at, chunk);
                if (Failure(candidate)?.GetType() == failure)
                    input = candidate;
                else
                    at += chunk;
            }
        return input;
    }

    private static readonly string[] Tokens =
    [
        "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "1e400", "-1e400", "-1", "0", "1e308", "-1e308", "null", "true", "\"\"", "[]", "{}",
        "[[]]", "[null]", "\"\\u0007\"", "\"\\n\"", "2147483648", "-2147483649", "9e18", "\"0x\"", "{\"xsave\":null}", "[1,2,3,4]",
    ];

    private static string Mutate(string s, Random rng)
    {
        var sb = new StringBuilder(s);
        int edits = 1 + rng.Next(3);
        for (int e = 0; e < edits && sb.Length > 0; e++)
        {
            int at = rng.Next(sb.Length);
            switch (rng.Next(7))
            {
                case 0: // a value becomes a special token
                    int start = IndexOfValue(sb, at);
                    if (start < 0) goto case 2;
                    int end = start;
                    while (end < sb.Length && "-+.eE0123456789".Contains(sb[end])) end++;
                    sb.Remove(start, end - start).Insert(start, Tokens[rng.Next(Tokens.Length)]);
                    break;
                case 1: // delete a range
                    sb.Remove(at, Math.Min(sb.Length - at, 1 + rng.Next(40)));
                    break;
                case 2: // insert a token
                    sb.Insert(at, Tokens[rng.Next(Tokens.Length)]);
                    break;
                case 3: // duplicate a range
                    int len = Math.Min(sb.Length - at, 1 + rng.Next(200));
                    sb.Insert(at, sb.ToString(at, len));
                    break;
                case 4: // one character becomes something else (control characters included)
                    sb[at] = rng.Next(8) == 0 ? '\u2028' : (char)rng.Next(0, 0x80);
                    break;
                case 5: // truncate
                    sb.Length = at;
                    break;
                default: // a field name is misspelt
                    int q = sb.ToString().IndexOf('"', at);
                    if (q >= 0 && q + 1 < sb.Length) sb[q + 1] = (char)('a' + rng.Next(26));
                    break;
            }
        }
        return sb.Length > 1 << 16 ? sb.ToString(0, 1 << 16) : sb.ToString();
    }

    private static int IndexOfValue(StringBuilder sb, int from)
    {
        for (int i = from; i < sb.Length; i++)
            if (char.IsDigit(sb[i]) && i > 0 && (sb[i - 1] is ' ' or '[' or ':' or '-' or '\n'))
                return sb[i - 1] == '-' ? i - 1 : i;
        return -1;
    }
}
