using FsCheck;
using FsCheck.Fluent;
namespace XsaveLab.Arch.Tests.Fuzzing;

/// <summary>The seeded FsCheck runner and the byte-image fuzzer: the same seed gives the same cases, and a failure
/// names its seed and a shrunk input.</summary>
public class SeededPropertyTests
{
    private static List<int> Cases(ulong seed)
    {
        var seen = new List<int>();
        Prop.ForAll(ArbMap.Default.ArbFor<int>(), x =>
        {
            seen.Add(x);
            return true;
        }).CheckSeeded(seed);
        return seen;
    }

    [Fact]
    public void SameSeed_GivesTheSameCases_AndAnotherSeedOthers()
    {
        Assert.Equal(Cases(7), Cases(7));
        Assert.NotEqual(Cases(7), Cases(8));
    }

    [Fact]
    public void AFailingProperty_NamesItsSeed()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Prop.ForAll(ArbMap.Default.ArbFor<int>(), x => x < 50).CheckSeeded(3));
        Assert.Contains("FSCHECK_SEED=", e.Message);
        Assert.Contains("Falsifiable", e.Message);
    }

    [Fact]
    public void AFailingImage_IsReportedWithSeed_AndShrunkToTheBytesThatMatter()
    {
        var e = Assert.Throws<FuzzFailure>(() => Fuzz.RunBytes("demo", 9, 5, rng =>
        {
            var b = new byte[600];
            rng.NextBytes(b);
            b[520] = 0x80;
            return b;
        }, b =>
        {
            if (b.Length > 520 && b[520] == 0x80)
                throw new FormatException("saw 0x80 at 520");
        }));
        Assert.Contains("seed 9, input #0", e.Message);
        string sparse = e.Message[(e.Message.IndexOf("-----\n", StringComparison.Ordinal) + 6)..e.Message.LastIndexOf("----- end", StringComparison.Ordinal)];
        var minimal = Fuzz.ParseSparse(sparse);
        Assert.Equal(0x80, minimal[520]);
        Assert.Equal(1, minimal.Count(b => b != 0));
        Assert.True(minimal.Length < 600, $"not cut: {minimal.Length} bytes");
    }
}
