namespace XsaveLab.Arch.Sanity;

/// <summary>The combinations XSETBV accepts in XCR0, independent of what a CPU supports.</summary>
/// <remarks>SDM Vol.1 §13.3 and the XSETBV instruction page (#GP conditions); Xen
/// <c>valid_xcr0()</c> (xen/arch/x86/xstate.c) checks the same set, APX/MPX exclusivity per the APX
/// specification (APX state reuses the MPX area at offset 960).</remarks>
public static class Xcr0Rules
{
    /// <summary>Every rule <paramref name="xcr0"/> breaks, as (code, message); empty when XSETBV would accept it
    /// on a CPU supporting all its bits.</summary>
    public static IReadOnlyList<(string Code, string Message)> Violations(ulong xcr0)
    {
        var list = new List<(string, string)>();
        if ((xcr0 & XFeatureMasks.Fp) == 0)
            list.Add(("XCR0_X87", "x87 (bit 0) must always be set"));
        if ((xcr0 & XFeatureMasks.Ymm) != 0 && (xcr0 & XFeatureMasks.Sse) == 0)
            list.Add(("XCR0_AVX_NEEDS_SSE", "AVX (bit 2) requires SSE (bit 1)"));
        ulong avx512 = xcr0 & XFeatureMasks.Avx512;
        if (avx512 != 0 && avx512 != XFeatureMasks.Avx512)
            list.Add(("XCR0_AVX512_PARTIAL", "AVX-512 opmask, ZMM_Hi256 and Hi16_ZMM (bits 5-7) must be set together"));
        if (avx512 != 0 && (xcr0 & XFeatureMasks.Ymm) == 0)
            list.Add(("XCR0_AVX512_NEEDS_AVX", "AVX-512 (bits 5-7) requires AVX (bit 2)"));
        ulong mpx = xcr0 & XFeatureMasks.Mpx;
        if (mpx != 0 && mpx != XFeatureMasks.Mpx)
            list.Add(("XCR0_MPX_PAIR", "MPX BNDREGS and BNDCSR (bits 3, 4) must be set together"));
        ulong amx = xcr0 & XFeatureMasks.Xtile;
        if (amx != 0 && amx != XFeatureMasks.Xtile)
            list.Add(("XCR0_AMX_PAIR", "AMX XTILECFG and XTILEDATA (bits 17, 18) must be set together"));
        if ((xcr0 & XFeatureMasks.Apx) != 0 && mpx != 0)
            list.Add(("XCR0_APX_MPX", "APX (bit 19) and MPX (bits 3, 4) exclude each other: both use offset 960"));
        return list;
    }

    public static bool IsValid(ulong xcr0) => Violations(xcr0).Count == 0;
}
