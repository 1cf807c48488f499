using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace XsaveLab.Tests;

/// <summary>Seeded, reproducible mutation fuzzing for text inputs. Every run prints nothing while it passes;
/// a failing input is shrunk (whole lines removed while it still fails) and reported with the seed, the input
/// index and the minimal text, so that <c>FUZZ_SEED=… FUZZ_ITERATIONS=…</c> replays it.</summary>
/// <remarks>Environment: <c>FUZZ_ITERATIONS</c> (inputs per target; the default is what every <c>dotnet test</c>
/// runs) and <c>FUZZ_SEED</c> (a fixed default keeps the suite deterministic). Each input runs under a time
/// limit (a hang guard far above the normal run time, not a performance check) and a limit on the bytes its
/// check allocates.</remarks>
internal static partial class Fuzz
{
    /// <summary>Inputs per target: <c>FUZZ_ITERATIONS</c> when set (nightly runs), else <paramref name="fallback"/>.</summary>
    public static int Iterations(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : fallback;

    /// <summary><c>FUZZ_SEED</c> when set, else <paramref name="fallback"/>.</summary>
    public static int Seed(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : fallback;

    /// <summary>Limits for one input.</summary>
    /// <param name="Time">Wall-clock limit for one check (a hang guard).</param>
    /// <param name="AllocatedBytes">Bytes the check may allocate on its thread.</param>
    public sealed record Limits(TimeSpan Time, long AllocatedBytes)
    {
        public static Limits Default { get; } = new(TimeSpan.FromSeconds(30), 256L << 20);
    }

    /// <summary>Runs <paramref name="check"/> on <paramref name="count"/> inputs made by
    /// <paramref name="generate"/> from a <see cref="Random"/> seeded with (seed, index). The check fails by
    /// throwing; a time-out or an allocation over the limit fails as well. Throws an exception describing the
    /// first failure, its seed and its shrunk input.</summary>
    public static void Run(string target, int seed, int count, Func<Random, string> generate, Action<string> check, Limits? limits = null)
    {
        limits ??= Limits.Default;
        for (int i = 0; i < count; i++)
        {
            string input = generate(new Random(unchecked(seed * 1_000_003 + i))); // HashCode is randomised per process
            if (Failure(input, check, limits) is not { } why)
                continue;
            string minimal = why.StartsWith("timeout", StringComparison.Ordinal) ? input : Shrink(input, check, limits);
            string minimalWhy = Failure(minimal, check, limits) ?? why;
            throw new FuzzFailure($"fuzz target '{target}' failed: seed {seed}, input #{i} (replay: FUZZ_SEED={seed} FUZZ_ITERATIONS={i + 1})\n" +
                                  $"failure: {minimalWhy}\n----- minimal input ({minimal.Length} chars) -----\n{Printable(minimal)}\n----- end -----");
        }
    }

    /// <summary>Null when <paramref name="check"/> passes on <paramref name="input"/> within the limits, else why not.</summary>
    public static string? Failure(string input, Action<string> check, Limits limits)
    {
        long allocated = 0;
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            check(input);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!task.Wait(limits.Time))
                return $"timeout: still running after {limits.Time.TotalSeconds} s";
        }
        catch (AggregateException e)
        {
            return e.InnerException is { } inner ? $"{inner.GetType().Name}: {inner.Message}\n{inner.StackTrace}" : e.Message;
        }
        return allocated > limits.AllocatedBytes ? $"allocated {allocated} bytes, over the limit of {limits.AllocatedBytes}" : null;
    }

    /// <summary>Removes chunks of lines, then single lines, while the input still fails (at most a few hundred checks).</summary>
    public static string Shrink(string input, Action<string> check, Limits limits)
    {
        var lines = input.Split('\n').ToList();
        int budget = 400;
        for (int chunk = Math.Max(1, lines.Count / 2); chunk >= 1 && budget > 0; chunk /= 2)
        {
            for (int at = 0; at + chunk <= lines.Count && budget > 0;)
            {
                var candidate = lines.Take(at).Concat(lines.Skip(at + chunk)).ToList();
                budget--;
                if (candidate.Count > 0 && Failure(string.Join('\n', candidate), check, limits) is not null)
                    lines = candidate;
                else
                    at += chunk;
            }
        }
        return string.Join('\n', lines);
    }

    // ---- mutations of line-oriented text with hexadecimal numbers (CPUID dumps and similar inputs) ----

    [GeneratedRegex("[0-9A-Fa-f]{1,16}")]
    private static partial Regex HexToken();

    private static readonly string[] SpecialHex =
        ["0", "00000000", "FFFFFFFF", "ffffffff", "7FFFFFFF", "80000000", "7FFFFFFE", "00000001", "1FFFFFFFF", "100000000", "FFFFFFFFFFFFFFFF", "00000240", "00002B00", "0000000D"];

    /// <summary>1 to <paramref name="maxMutations"/> random mutations of <paramref name="text"/>: numbers replaced
    /// by boundary or random values, bit flips, lines duplicated, deleted, swapped or cut, garbage (control
    /// characters, long runs) inserted.</summary>
    public static string MutateLines(Random rng, string text, int maxMutations = 4)
    {
        var lines = text.Split('\n').ToList();
        int n = rng.Next(1, maxMutations + 1);
        for (int k = 0; k < n && lines.Count > 0; k++)
        {
            int at = rng.Next(lines.Count);
            switch (rng.Next(9))
            {
                case 0:
                case 1:
                    lines[at] = ReplaceNumber(rng, lines[at], _ => SpecialHex[rng.Next(SpecialHex.Length)]);
                    break;
                case 2:
                    lines[at] = ReplaceNumber(rng, lines[at], t => FlipBit(rng, t));
                    break;
                case 3:
                    lines[at] = ReplaceNumber(rng, lines[at], t => rng.NextInt64().ToString(t.Length > 8 ? "X16" : "X8", CultureInfo.InvariantCulture)[^Math.Max(t.Length, 1)..]);
                    break;
                case 4:
                    lines.Insert(at, lines[at]);
                    break;
                case 5:
                    lines.RemoveAt(at);
                    break;
                case 6:
                    int other = rng.Next(lines.Count);
                    (lines[at], lines[other]) = (lines[other], lines[at]);
                    break;
                case 7:
                    lines[at] = lines[at][..rng.Next(lines[at].Length + 1)];
                    break;
                default:
                    lines[at] = lines[at].Insert(rng.Next(lines[at].Length + 1), Garbage(rng));
                    break;
            }
        }
        return string.Join('\n', lines);
    }

    private static string ReplaceNumber(Random rng, string line, Func<string, string> replace)
    {
        var matches = HexToken().Matches(line);
        if (matches.Count == 0)
            return line;
        var m = matches[rng.Next(matches.Count)];
        return string.Concat(line.AsSpan(0, m.Index), replace(m.Value), line.AsSpan(m.Index + m.Length));
    }

    private static string FlipBit(Random rng, string hex)
    {
        ulong v = ulong.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        v ^= 1UL << rng.Next(Math.Min(64, hex.Length * 4));
        return v.ToString("X" + hex.Length.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)[^hex.Length..];
    }

    private static string Garbage(Random rng)
    {
        switch (rng.Next(5))
        {
            case 0:
                return new string((char)rng.Next(0, 32), rng.Next(1, 4));
            case 1:
                return new string('F', rng.Next(9, 40));
            case 2:
                return new string('x', rng.Next(100, 6000)); // past the line limit now and then
            case 3:
                return " [SL " + rng.Next().ToString("X", CultureInfo.InvariantCulture) + "FF]";
            default:
                var sb = new StringBuilder();
                for (int i = rng.Next(1, 30); i > 0; i--)
                    sb.Append((char)rng.Next(1, 0x2100));
                return sb.ToString();
        }
    }

    /// <summary>The input with control characters other than newline shown as \xNN, so a report stays readable.</summary>
    private static string Printable(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s.Length > 20_000 ? s[..20_000] : s)
            sb.Append(c != '\n' && char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return s.Length > 20_000 ? sb.Append("\n… (cut)").ToString() : sb.ToString();
    }
}

/// <summary>A fuzz target failed; the message holds the seed and the minimal input.</summary>
internal sealed class FuzzFailure(string message) : Exception(message);
