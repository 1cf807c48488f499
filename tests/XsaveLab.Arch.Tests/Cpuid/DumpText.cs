namespace XsaveLab.Arch.Tests.Cpuid;

/// <summary>Dump texts derived from catalog CPUs with one leaf changed, for the input tests.</summary>
internal static class DumpText
{
    /// <summary>The <c>cpuid -r</c> text of catalog CPU <paramref name="cpu"/> with leaf (<paramref name="leaf"/>,
    /// <paramref name="sub"/>) changed by <paramref name="edit"/>, or removed when it returns null.</summary>
    public static string Edited(string cpu, uint leaf, uint sub, Func<CpuidLeaf, CpuidLeaf?> edit)
    {
        var p = CpuCatalog.Get(cpu);
        var leaves = p.Leaves.Select(l => l.Leaf == leaf && l.Subleaf == sub ? edit(l) : l).OfType<CpuidLeaf>();
        return Raw(leaves);
    }

    /// <summary><c>cpuid -r</c> lines for <paramref name="leaves"/>, in the given order.</summary>
    public static string Raw(IEnumerable<CpuidLeaf> leaves) =>
        "CPU 0:\n" + string.Concat(leaves.Select(l => "   " + l + "\n"));

    /// <summary>The 1-based line of <paramref name="text"/> holding CPUID(<paramref name="leaf"/>, <paramref name="sub"/>).</summary>
    public static int LineOf(string text, uint leaf, uint sub)
    {
        var lines = text.Split('\n');
        string key = $"0x{leaf:x8} 0x{sub:x2}:";
        return Array.FindIndex(lines, l => l.TrimStart().StartsWith(key, StringComparison.Ordinal)) + 1;
    }
}
