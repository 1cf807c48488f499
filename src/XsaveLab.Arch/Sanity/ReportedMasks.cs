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
    /// <remarks>Only the bits the architecture defines for each register are tried
    /// (<see cref="CpuProfileValidation.DefinedXcr0"/>, <see cref="CpuProfileValidation.DefinedXss"/>): an OS can set
    /// no other. That bounds the search to 2^10 XCR0 and 2^8 IA32_XSS candidates whatever the profile claims,
    /// and nothing is kept but the best candidate and the counts.</remarks>
    public static ReportedMasks Infer(CpuProfile cpu)
    {
        if (!cpu.HasXsave)
            return new(null, 0, null, 0);
        uint ebx0 = cpu.Leaf(0xD, 0).Ebx, ebx1 = cpu.Leaf(0xD, 1).Ebx;
        ulong userBits = cpu.SupportedXcr0 & XFeatureMasks.Extend & CpuProfileValidation.DefinedXcr0;
        ulong xssBits = cpu.SupportedXss & CpuProfileValidation.DefinedXss;
        ulong? bestX = null;
        int xcr0Count = 0;
        foreach (ulong sub in Submasks(userBits))
        {
            ulong x = sub | (cpu.SupportedXcr0 & XFeatureMasks.FpSse);
            if (!Fits(cpu, x, ebx0))
                continue;
            xcr0Count++;
            if (bestX is not ulong b || Rank(x).CompareTo(Rank(b)) > 0)
                bestX = x;
        }
        if (!cpu.HasXsaves || xcr0Count == 0)
            return new(bestX, xcr0Count, null, 0);

        (ulong X, ulong S)? best = null;
        int pairCount = 0;
        foreach (ulong sub in Submasks(userBits))
        {
            ulong x = sub | (cpu.SupportedXcr0 & XFeatureMasks.FpSse);
            if (!Fits(cpu, x, ebx0))
                continue;
            foreach (ulong s in Submasks(xssBits))
            {
                if (XStateGeometry.Size(cpu, x | s, compacted: true) != ebx1)
                    continue;
                pairCount++;
                if (best is not { } bp || (Rank(x), Rank(s)).CompareTo((Rank(bp.X), Rank(bp.S))) > 0)
                    best = (x, s);
            }
        }
        return best is { } p ? new(p.X, xcr0Count, p.S, pairCount) : new(bestX, xcr0Count, null, 0);
    }

    private static bool Fits(CpuProfile cpu, ulong x, uint ebx0) =>
        Xcr0Rules.IsValid(x) && XStateGeometry.Size(cpu, x, compacted: false) == ebx0;

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
