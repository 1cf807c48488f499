namespace XsaveLab.Arch.Sanity;

/// <summary>One combination rule XSETBV enforces on XCR0.</summary>
/// <param name="Code">Stable identifier (sanity findings, tests).</param>
/// <param name="Message">The rule in words, for findings and reports.</param>
/// <param name="Fault">The text of the #GP the instruction model raises (<see cref="XsaveRules"/>).</param>
/// <param name="Broken">Whether an XCR0 value breaks the rule.</param>
public sealed record Xcr0Rule(string Code, string Message, string Fault, Func<ulong, bool> Broken);

/// <summary>The combinations XSETBV accepts in XCR0, independent of what a CPU supports: the one definition the
/// instruction model (<see cref="XsaveCpu.Xcr0Violation"/>), the CPU sanity checks and KVM's
/// <c>__kvm_set_xcr()</c> model all use.</summary>
/// <remarks>SDM Vol.1 §13.3 and the XSETBV instruction page (#GP conditions); Xen
/// <c>valid_xcr0()</c> (xen/arch/x86/xstate.c) checks the same set, APX/MPX exclusivity per the APX
/// specification (APX state reuses the MPX area at offset 960).</remarks>
public static class Xcr0Rules
{
    /// <summary>The rules in the order they are reported.</summary>
    public static IReadOnlyList<Xcr0Rule> All { get; } =
    [
        new("XCR0_X87", "x87 (bit 0) must always be set", XsaveRules.Xcr0Bit0Clear,
            x => (x & XFeatureMasks.Fp) == 0),
        new("XCR0_AVX_NEEDS_SSE", "AVX (bit 2) requires SSE (bit 1)", XsaveRules.Xcr0AvxWithoutSse,
            x => (x & XFeatureMasks.Ymm) != 0 && (x & XFeatureMasks.Sse) == 0),
        new("XCR0_AVX512_PARTIAL", "AVX-512 opmask, ZMM_Hi256 and Hi16_ZMM (bits 5-7) must be set together", XsaveRules.Xcr0Avx512,
            x => (x & XFeatureMasks.Avx512) is not 0 and not XFeatureMasks.Avx512),
        new("XCR0_AVX512_NEEDS_AVX", "AVX-512 (bits 5-7) requires AVX (bit 2)", XsaveRules.Xcr0Avx512,
            x => (x & XFeatureMasks.Avx512) != 0 && (x & XFeatureMasks.Ymm) == 0),
        new("XCR0_MPX_PAIR", "MPX BNDREGS and BNDCSR (bits 3, 4) must be set together", XsaveRules.Xcr0MpxPair,
            x => (x & XFeatureMasks.Mpx) is not 0 and not XFeatureMasks.Mpx),
        new("XCR0_AMX_PAIR", "AMX XTILECFG and XTILEDATA (bits 17, 18) must be set together", XsaveRules.Xcr0AmxPair,
            x => (x & XFeatureMasks.Xtile) is not 0 and not XFeatureMasks.Xtile),
        new("XCR0_APX_MPX", "APX (bit 19) and MPX (bits 3, 4) exclude each other: both use offset 960", XsaveRules.Xcr0ApxMpx,
            x => (x & XFeatureMasks.Apx) != 0 && (x & XFeatureMasks.Mpx) != 0),
    ];

    /// <summary>Every rule <paramref name="xcr0"/> breaks, as (code, message); empty when XSETBV would accept it
    /// on a CPU supporting all its bits.</summary>
    public static IReadOnlyList<(string Code, string Message)> Violations(ulong xcr0) =>
        [.. All.Where(r => r.Broken(xcr0)).Select(r => (r.Code, r.Message))];

    /// <summary>The first rule <paramref name="xcr0"/> breaks, or null.</summary>
    public static Xcr0Rule? FirstBroken(ulong xcr0)
    {
        foreach (var r in All)
            if (r.Broken(xcr0))
                return r;
        return null;
    }

    public static bool IsValid(ulong xcr0) => FirstBroken(xcr0) is null;
}
