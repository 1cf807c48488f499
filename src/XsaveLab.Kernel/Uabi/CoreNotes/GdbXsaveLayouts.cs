namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>The XSAVE layouts gdb assumes for a core without NT_X86_XSAVE_LAYOUT (gdb/i387-tdep.c
/// <c>i387_guess_xsave_layout()</c> by XCR0 and note size, <c>i387_fallback_xsave_layout()</c> by XCR0) — gcore
/// itself writes NT_X86_XSTATE in these layouts.</summary>
public static class GdbXsaveLayouts
{
    private static readonly (int Feature, int Size)[] Sizes =
        [(2, 256), (3, 64), (4, 64), (5, 64), (6, 512), (7, 1024), (9, 8)];

    private static readonly Dictionary<int, int> Intel = new() { [2] = 576, [3] = 960, [4] = 1024, [5] = 1088, [6] = 1152, [7] = 1664, [9] = 2688 };
    private static readonly Dictionary<int, int> Amd = new() { [2] = 576, [5] = 832, [6] = 896, [7] = 1408, [9] = 2432 };

    /// <summary><c>i387_guess_xsave_layout(xcr0, size)</c>: Intel with PKRU (2696), AMD with PKRU (2440), Intel
    /// AVX-512 (2688), Intel MPX (1088), AVX (832); null when nothing matches.</summary>
    public static IReadOnlyList<XfeatComponent>? Guess(ulong xcr0, int size)
    {
        bool pkru = (xcr0 & XFeatureMasks.Pkru) != 0, avx512 = (xcr0 & XFeatureMasks.Avx512) != 0,
             mpx = (xcr0 & XFeatureMasks.Mpx) != 0, avx = (xcr0 & XFeatureMasks.Ymm) != 0;
        if (pkru && size == 2696)
            return Build(xcr0, Intel);
        if (pkru && size == 2440)
            return Build(xcr0, Amd);
        if (avx512 && size == 2688)
            return Build(xcr0 & ~XFeatureMasks.Pkru, Intel);
        if (mpx && size == 1088)
            return Build(xcr0 & (XFeatureMasks.Ymm | XFeatureMasks.Mpx), Intel);
        if (avx && size == 832)
            return Build(xcr0 & XFeatureMasks.Ymm, Intel);
        return null;
    }

    /// <summary><c>i387_fallback_xsave_layout(xcr0)</c>: the Intel layout for the highest feature group.</summary>
    public static IReadOnlyList<XfeatComponent> Fallback(ulong xcr0) => Build(xcr0, Intel);

    private static List<XfeatComponent> Build(ulong xcr0, Dictionary<int, int> offsets) =>
        [.. Sizes.Where(s => (xcr0 >> s.Feature & 1) != 0 && offsets.ContainsKey(s.Feature))
            .Select(s => new XfeatComponent((uint)s.Feature, (uint)s.Size, (uint)offsets[s.Feature], 0))];
}
