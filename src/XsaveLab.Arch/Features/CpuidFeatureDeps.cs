namespace XsaveLab.Arch.Features;

/// <summary>A CPUID feature bit by the name the kernel gives it (arch/x86/include/asm/cpufeatures.h, lower case as
/// in /proc/cpuinfo and <c>clearcpuid=</c>); <see cref="Feature"/> names the model's <see cref="CpuFeature"/> when
/// the bit is one the XSAVE code tests.</summary>
public sealed record NamedCpuidBit(string Name, CpuFeatureBit Bit, CpuFeature Feature = CpuFeature.None);

/// <summary>The CPUID bits that matter when features are hidden, and which depend on which: the entries of the
/// kernel's <c>cpuid_deps[]</c> (arch/x86/kernel/cpu/cpuid-deps.c, v6.17) among the features XSAVE state is
/// gated by (<c>xsave_cpuid_features[]</c>) and the instruction sets built on them. Clearing a feature clears,
/// transitively, every feature that depends on it (<c>do_clear_cpu_cap()</c>). One row is not the kernel's:
/// OSPKE (CPUID.(7,0):ECX[4]) mirrors CR4.PKE, which cannot be set without PKU (SDM Vol. 3A 2.5), so it goes
/// with PKU; the kernel gates PKRU on OSPKE.</summary>
public static class CpuidFeatureDeps
{
    private static NamedCpuidBit B(string name, uint leaf, uint sub, CpuidRegister reg, int bit) => new(name, new(leaf, sub, reg, bit));

    private static NamedCpuidBit F(string name, CpuFeature f) => new(name, CpuFeatureBits.Of(f), f);

    private const CpuidRegister Eax = CpuidRegister.Eax, Ebx = CpuidRegister.Ebx, Ecx = CpuidRegister.Ecx, Edx = CpuidRegister.Edx;

    /// <summary>Every known name, kernel spelling.</summary>
    public static readonly IReadOnlyList<NamedCpuidBit> Bits =
    [
        F("fpu", CpuFeature.Fpu), F("fxsr", CpuFeature.Fxsr), F("sse", CpuFeature.Sse), B("sse2", 1, 0, Edx, 26),
        F("xsave", CpuFeature.Xsave), F("avx", CpuFeature.Avx), B("fma", 1, 0, Ecx, 12), B("f16c", 1, 0, Ecx, 29),
        B("avx2", 7, 0, Ebx, 5), B("vaes", 7, 0, Ecx, 9), B("vpclmulqdq", 7, 0, Ecx, 10), B("avx_vnni", 7, 1, Eax, 4),
        F("mpx", CpuFeature.Mpx), F("avx512f", CpuFeature.Avx512F),
        B("avx512dq", 7, 0, Ebx, 17), B("avx512ifma", 7, 0, Ebx, 21), B("avx512pf", 7, 0, Ebx, 26), B("avx512er", 7, 0, Ebx, 27),
        B("avx512cd", 7, 0, Ebx, 28), B("avx512bw", 7, 0, Ebx, 30), B("avx512vl", 7, 0, Ebx, 31), B("avx512vbmi", 7, 0, Ecx, 1),
        B("avx512_vbmi2", 7, 0, Ecx, 6), B("avx512_vnni", 7, 0, Ecx, 11), B("avx512_bitalg", 7, 0, Ecx, 12),
        B("avx512_vpopcntdq", 7, 0, Ecx, 14), B("avx512_4vnniw", 7, 0, Edx, 2), B("avx512_4fmaps", 7, 0, Edx, 3),
        B("avx512_vp2intersect", 7, 0, Edx, 8), B("avx512_fp16", 7, 0, Edx, 23), B("avx512_bf16", 7, 1, Eax, 5),
        F("intel_pt", CpuFeature.IntelPt), F("pku", CpuFeature.Pku), F("ospke", CpuFeature.OsPke),
        F("enqcmd", CpuFeature.Enqcmd), F("shstk", CpuFeature.Shstk), F("ibt", CpuFeature.Ibt), F("arch_lbr", CpuFeature.ArchLbr),
        F("amx_tile", CpuFeature.AmxTile), B("amx_bf16", 7, 0, Edx, 22), B("amx_int8", 7, 0, Edx, 25), B("amx_fp16", 7, 1, Eax, 21),
        F("apx", CpuFeature.Apx),
        F("xsaveopt", CpuFeature.Xsaveopt), F("xsavec", CpuFeature.Xsavec), F("xgetbv1", CpuFeature.Xgetbv1),
        F("xsaves", CpuFeature.Xsaves), F("xfd", CpuFeature.Xfd),
    ];

    /// <summary>(feature, depends on) pairs, by name, in the kernel's order.</summary>
    public static readonly IReadOnlyList<(string Feature, string DependsOn)> Pairs =
    [
        ("fxsr", "fpu"),
        ("xsaveopt", "xsave"), ("xsavec", "xsave"), ("xsaves", "xsave"), ("avx", "xsave"), ("pku", "xsave"),
        ("mpx", "xsave"), ("xgetbv1", "xsave"), ("apx", "xsave"),
        ("xsave", "fxsr"), ("sse", "fxsr"), ("sse2", "sse"),
        ("f16c", "sse2"), ("fma", "avx"), ("avx2", "avx"), ("avx512f", "avx"),
        ("avx512ifma", "avx512f"), ("avx512pf", "avx512f"), ("avx512er", "avx512f"), ("avx512cd", "avx512f"),
        ("avx512dq", "avx512f"), ("avx512bw", "avx512f"), ("avx512vl", "avx512f"), ("avx512vbmi", "avx512f"),
        ("avx512_vbmi2", "avx512vl"), ("avx512_vnni", "avx512vl"), ("avx512_bitalg", "avx512vl"),
        ("avx512_4vnniw", "avx512f"), ("avx512_4fmaps", "avx512f"), ("avx512_vpopcntdq", "avx512f"),
        ("avx512_vp2intersect", "avx512vl"), ("avx512_bf16", "avx512vl"), ("avx512_fp16", "avx512bw"),
        ("vaes", "avx"), ("vpclmulqdq", "avx"), ("avx_vnni", "avx"),
        ("enqcmd", "xsaves"), ("xfd", "xsaves"), ("xfd", "xgetbv1"),
        ("amx_tile", "xfd"), ("amx_bf16", "amx_tile"), ("amx_int8", "amx_tile"), ("amx_fp16", "amx_tile"),
        ("shstk", "xsaves"), ("ospke", "pku"),
    ];

    /// <summary>The bit named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static NamedCpuidBit? Find(string name) =>
        Bits.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The kernel's name of a model feature, or null when it is not in <see cref="Bits"/>.</summary>
    public static string? NameOf(CpuFeature feature) =>
        feature == CpuFeature.None ? null : Bits.FirstOrDefault(b => b.Feature == feature)?.Name;

    /// <summary><paramref name="names"/> and, transitively, every feature depending on one of them.</summary>
    public static IReadOnlySet<string> WithDependents(IEnumerable<string> names)
    {
        var set = new HashSet<string>(names.Select(n => n.ToLowerInvariant()));
        bool changed;
        do
        {
            changed = false;
            foreach (var (f, dep) in Pairs)
                if (set.Contains(dep) && set.Add(f))
                    changed = true;
        }
        while (changed);
        return set;
    }

    /// <summary>The model features among <paramref name="names"/> (names outside <see cref="CpuFeature"/> dropped).</summary>
    public static IEnumerable<CpuFeature> Features(IEnumerable<string> names) =>
        names.Select(Find).Where(b => b is { Feature: not CpuFeature.None }).Select(b => b!.Feature);
}
