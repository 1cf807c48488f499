namespace XsaveLab.Arch.Tests.Fuzzing;

/// <summary>The seeded fuzz helper itself: reproducible inputs, and failures, hangs and blow-ups reported with
/// the seed and a shrunk input.</summary>
public class FuzzHelperTests
{
    private const string Seed = "line one 00000001\nline two 0000000D\nline three FFFFFFFF\nline four 00000240\n";

    [Fact]
    public void SameSeed_GivesTheSameInputs_AndOtherSeedsOthers()
    {
        string[] Gen(int seed) => [.. Enumerable.Range(0, 50).Select(i => Fuzz.MutateLines(new Random(seed * 1_000_003 + i), Seed))];
        Assert.Equal(Gen(7), Gen(7));
        Assert.NotEqual(Gen(7), Gen(8));
        Assert.Contains(Gen(7), s => s != Seed);
    }

    [Fact]
    public void AFailingCheck_IsReportedWithSeedAndShrunkInput()
    {
        var e = Assert.Throws<FuzzFailure>(() => Fuzz.Run("demo", 5, 10, _ => Seed + "BAD here\nmore\n", text =>
        {
            if (text.Contains("BAD", StringComparison.Ordinal))
                throw new FormatException("saw BAD");
        }));
        Assert.Contains("seed 5, input #0", e.Message);
        Assert.Contains("FormatException: saw BAD", e.Message);
        string minimal = e.Message[(e.Message.IndexOf("-----\n", StringComparison.Ordinal) + 6)..e.Message.LastIndexOf("\n-----", StringComparison.Ordinal)];
        Assert.Equal("BAD here", minimal);
    }

    [Fact]
    public void AHangAndAnAllocationBlowUp_AreFailures()
    {
        var quick = new Fuzz.Limits(TimeSpan.FromMilliseconds(200), 1L << 20);
        var gate = new ManualResetEventSlim();
        try
        {
            Assert.StartsWith("timeout", Fuzz.Failure("x", _ => gate.Wait(), quick));
        }
        finally
        {
            gate.Set();
        }
        Assert.StartsWith("allocated", Fuzz.Failure("x", _ => GC.KeepAlive(new byte[4 << 20]), quick));
        Assert.Null(Fuzz.Failure("x", _ => GC.KeepAlive(new byte[1024]), quick));
    }

    [Fact]
    public void Iterations_ComeFromTheEnvironmentOrTheDefault()
    {
        string? set = Environment.GetEnvironmentVariable("FUZZ_ITERATIONS");
        int expected = int.TryParse(set, out int n) && n > 0 ? n : 123;
        Assert.Equal(expected, Fuzz.Iterations(123));
    }
}
