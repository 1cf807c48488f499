using System.Numerics;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Features;
using XsaveLab.Arch.Layout;

namespace XsaveLab.Arch.Sanity;

/// <summary>Which XCR0 and IA32_XSS the OS that made a dump had set, inferred from the sizes CPUID reports
/// for the current values: 0xD.0 EBX is the standard size for XCR0, 0xD.1 EBX the compacted size for
/// XCR0|IA32_XSS (SDM Vol.2A CPUID leaf 0DH). Several masks can give the same size; the one with most bits
/// wins, because operating systems enable what they know.</summary>
/// <param name="Xcr0">Best XCR0 fitting 0xD.0 EBX (and, when possible, 0xD.1 EBX), or null when none fits.</param>
/// <param name="Xcr0Count">How many valid XCR0 values fit 0xD.0 EBX.</param>
/// <param name="Xss">Best IA32_XSS fitting 0xD.1 EBX together with <paramref name="Xcr0"/>, or null.</param>
/// <param name="PairCount">How many (XCR0, IA32_XSS) pairs fit both sizes.</param>
public sealed record ReportedMasks(ulong? Xcr0, int Xcr0Count, ulong? Xss, int PairCount)
{
    public static ReportedMasks Infer(CpuProfile cpu)
    {
        if (!cpu.HasXsave)
            return new(null, 0, null, 0);
        uint ebx0 = cpu.Leaf(0xD, 0).Ebx, ebx1 = cpu.Leaf(0xD, 1).Ebx;
        var xcr0s = new List<ulong>();
        foreach (ulong sub in Submasks(cpu.SupportedXcr0 & XFeatureMasks.Extend))
        {
            ulong x = sub | (cpu.SupportedXcr0 & XFeatureMasks.FpSse);
            if (Xcr0Rules.IsValid(x) && XStateGeometry.Size(cpu, x, compacted: false) == ebx0)
                xcr0s.Add(x);
        }
        ulong? bestX = xcr0s.Count == 0 ? null : xcr0s.MaxBy(Rank);
        if (!cpu.HasXsaves || xcr0s.Count == 0)
            return new(bestX, xcr0s.Count, null, 0);

        var pairs = new List<(ulong X, ulong S)>();
        foreach (ulong x in xcr0s)
            foreach (ulong s in Submasks(cpu.SupportedXss))
                if (XStateGeometry.Size(cpu, x | s, compacted: true) == ebx1)
                    pairs.Add((x, s));
        if (pairs.Count == 0)
            return new(bestX, xcr0s.Count, null, 0);
        var best = pairs.MaxBy(p => (Rank(p.X), Rank(p.S)));
        return new(best.X, xcr0s.Count, best.S, pairs.Count);
    }

    private static (int, ulong) Rank(ulong m) => (BitOperations.PopCount(m), m);

    /// <summary>Every submask of <paramref name="mask"/>, 0 included.</summary>
    private static IEnumerable<ulong> Submasks(ulong mask)
    {
        ulong s = mask;
        while (true)
        {
            yield return s;
            if (s == 0)
                yield break;
            s = (s - 1) & mask;
        }
    }
}
