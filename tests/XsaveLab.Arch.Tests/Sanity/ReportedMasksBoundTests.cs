namespace XsaveLab.Arch.Tests.Sanity;

/// <summary>The inference of the dumping OS's XCR0/IA32_XSS is bounded whatever a profile claims, and gives the
/// answers of the exhaustive search on every real CPU.</summary>
public class ReportedMasksBoundTests
{
    public static TheoryData<string> Names() => [.. CpuCatalog.Names];

    /// <summary>The search over every submask of the supported bits, as the inference was first written.</summary>
    private static ReportedMasks Exhaustive(CpuProfile cpu)
    {
        uint ebx0 = cpu.Leaf(0xD, 0).Ebx, ebx1 = cpu.Leaf(0xD, 1).Ebx;
        var xcr0s = Submasks(cpu.SupportedXcr0 & XFeatureMasks.Extend).Select(s => s | (cpu.SupportedXcr0 & XFeatureMasks.FpSse))
            .Where(x => Xcr0Rules.IsValid(x) && XStateGeometry.Size(cpu, x, false) == ebx0).ToList();
        ulong? bestX = xcr0s.Count == 0 ? null : xcr0s.MaxBy(m => (System.Numerics.BitOperations.PopCount(m), m));
        if (!cpu.HasXsaves || xcr0s.Count == 0)
            return new(bestX, xcr0s.Count, null, 0);
        var pairs = xcr0s.SelectMany(x => Submasks(cpu.SupportedXss).Select(s => (X: x, S: s)))
            .Where(p => XStateGeometry.Size(cpu, p.X | p.S, true) == ebx1).ToList();
        if (pairs.Count == 0)
            return new(bestX, xcr0s.Count, null, 0);
        var best = pairs.MaxBy(p => ((System.Numerics.BitOperations.PopCount(p.X), p.X), (System.Numerics.BitOperations.PopCount(p.S), p.S)));
        return new(best.X, xcr0s.Count, best.S, pairs.Count);
    }

    private static IEnumerable<ulong> Submasks(ulong mask)
    {
        for (ulong s = mask; ; s = (s - 1) & mask)
        {
            yield return s;
            if (s == 0)
                yield break;
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void CatalogAnswers_EqualTheExhaustiveSearch(string name)
    {
        var p = CpuCatalog.Get(name);
        Skip.IfNot(p.HasXsave, "no XSAVE");
        Assert.Equal(Exhaustive(p), ReportedMasks.Infer(p));
    }

    [Fact]
    public void AllMaskBitsSet_FinishesWithBoundedMemory()
    {
        // Built through the API, past the reader's validation: XCR0 and IA32_XSS with every bit set once took
        // exponential time and memory (+20 bits: 14 s and 875 MB). The limits are a hang and blow-up guard.
        var spr = CpuCatalog.Get("spr");
        var leaves = spr.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == 0 ? l with { Eax = 0xFFFFFFFF, Edx = 0x7FFFFFFF }
                                          : l.Leaf == 0xD && l.Subleaf == 1 ? l with { Ecx = 0xFFFFFFFF, Edx = 0x7FFFFFFF } : l).ToList();
        for (uint i = 20; i < 63; i++)
            leaves.Add(new CpuidLeaf(0xD, i, 64, 0x3000 + 64 * i, 0, 0));
        var hostile = new CpuProfile("all-bits", "test", leaves);
        Assert.Null(Fuzz.Failure("", unused =>
        {
            _ = ReportedMasks.Infer(hostile);
            _ = ProfileSanity.Check(hostile);
        }, new Fuzz.Limits(TimeSpan.FromSeconds(60), 256L << 20)));
        var fit = ReportedMasks.Infer(hostile);
        if (fit.Xcr0 is ulong x)
            Assert.True(XFeatureMasks.IsSubset(x, CpuProfileValidation.DefinedXcr0), "an OS can set no undefined XCR0 bit");
    }
}
