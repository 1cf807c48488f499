namespace XsaveLab.Sim.Cost;

/// <summary>Bytes an XSAVE-family instruction moves for a set of components, from CPUID leaf 0xD sizes.</summary>
/// <remarks>x87 moves its 160-byte legacy part, SSE its 256 bytes of XMM registers plus MXCSR/MXCSR_MASK (8);
/// a save's header words are XSTATE_BV (8) and, in compacted form, XCOMP_BV (8); a restore reads the whole
/// 64-byte header — SDM Vol.1 §13.4, §13.7, §13.8, §13.10.
/// Alignment padding of compacted components is reserved but never written, so it is not counted.</remarks>
public sealed class ComponentBytes
{
    private readonly int[] _size = new int[64];

    public ComponentBytes(CpuProfile cpu)
    {
        _size[0] = 160;
        _size[1] = 256 + 8;
        foreach (var c in cpu.SupportedComponents())
            if (c.Number >= 2)
                _size[c.Number] = c.Size;
    }

    /// <summary>Sizes given directly (index = component number).</summary>
    public ComponentBytes(IReadOnlyDictionary<int, int> sizes)
    {
        _size[0] = 160;
        _size[1] = 264;
        foreach (var (i, s) in sizes)
            if (i >= 2 && i < 64)
                _size[i] = s;
    }

    public int Size(int component) => (uint)component < 64 ? _size[component] : 0;

    /// <summary>Data bytes of the components in <paramref name="mask"/> (no header).</summary>
    public int Data(ulong mask)
    {
        int n = 0;
        while (mask != 0)
        {
            int i = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            n += i < 63 ? _size[i] : 0;
        }
        return n;
    }

    /// <summary>Bytes a restore reads: the components it loads plus the whole 64-byte header (XRSTOR/XRSTORS
    /// check XSTATE_BV, XCOMP_BV and the reserved header bytes, SDM Vol.1 §13.8).</summary>
    public int Restored(ulong mask) => Data(mask & ~XFeatureMasks.CompactedFormat) + 64;

    /// <summary>Bytes a save writes: the components plus XSTATE_BV, and XCOMP_BV in compacted form (the rest of
    /// the header is left untouched).</summary>
    public int WithHeader(ulong mask, bool compacted) => Data(mask & ~XFeatureMasks.CompactedFormat) + (compacted ? 16 : 8);
}
