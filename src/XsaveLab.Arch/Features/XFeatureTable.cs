namespace XsaveLab.Arch.Features;

/// <summary>The one table of XSAVE components 0..19, plus a description for any other number.</summary>
/// <remarks>Names and gates: arch/x86/kernel/fpu/xstate.c (v6.17) <c>xfeature_names[]</c> and
/// <c>xsave_cpuid_features[]</c>; sizes: the kernel's per-component structs checked by
/// <c>check_xstate_against_struct()</c>; user/supervisor: SDM Vol.1 §13.2 and CPUID(0xD,i).ECX[0].
/// Note that names 6 and 7 really read "AVX-512 Hi256" and "AVX-512 ZMM_Hi256" in the kernel.</remarks>
public static class XFeatureTable
{
    public const int Count = 20;
    public const string UnknownName = "unknown xstate feature";

    private static readonly XFeatureInfo[] Table =
    [
        new(0, "XFEATURE_FP", "x87", "x87 floating point registers", StateRegister.Xcr0, false, CpuFeature.Fpu, true, 160),
        new(1, "XFEATURE_SSE", "SSE", "SSE registers", StateRegister.Xcr0, false, CpuFeature.Sse, true, 256),
        new(2, "XFEATURE_YMM", "AVX", "AVX registers", StateRegister.Xcr0, false, CpuFeature.Avx, true, 256),
        new(3, "XFEATURE_BNDREGS", "BNDREGS", "MPX bounds registers", StateRegister.Xcr0, false, CpuFeature.Mpx, true, 64),
        new(4, "XFEATURE_BNDCSR", "BNDCSR", "MPX CSR", StateRegister.Xcr0, false, CpuFeature.Mpx, true, 64),
        new(5, "XFEATURE_OPMASK", "opmask", "AVX-512 opmask", StateRegister.Xcr0, false, CpuFeature.Avx512F, true, 64),
        new(6, "XFEATURE_ZMM_Hi256", "ZMM_Hi256", "AVX-512 Hi256", StateRegister.Xcr0, false, CpuFeature.Avx512F, true, 512),
        new(7, "XFEATURE_Hi16_ZMM", "Hi16_ZMM", "AVX-512 ZMM_Hi256", StateRegister.Xcr0, false, CpuFeature.Avx512F, true, 1024),
        new(8, "XFEATURE_PT_UNIMPLEMENTED_SO_FAR", "PT", "Processor Trace (unused)", StateRegister.Xss, false, CpuFeature.IntelPt, true, null),
        new(9, "XFEATURE_PKRU", "PKRU", "Protection Keys User registers", StateRegister.Xcr0, false, CpuFeature.OsPke, true, 8),
        new(10, "XFEATURE_PASID", "PASID", "PASID state", StateRegister.Xss, false, CpuFeature.Enqcmd, true, 8),
        new(11, "XFEATURE_CET_USER", "CET_U", "Control-flow User registers", StateRegister.Xss, false, CpuFeature.Shstk, true, 16),
        new(12, "XFEATURE_CET_KERNEL", "CET_S", "Control-flow Kernel registers (KVM only)", StateRegister.Xss, false, CpuFeature.Shstk, true, 24),
        new(13, "XFEATURE_RSRVD_COMP_13", "HDC", UnknownName, StateRegister.Xss, false, CpuFeature.None, false, null),
        new(14, "XFEATURE_RSRVD_COMP_14", "UINTR", UnknownName, StateRegister.Xss, false, CpuFeature.None, false, null),
        new(15, "XFEATURE_LBR", "LBR", UnknownName, StateRegister.Xss, false, CpuFeature.None, false, null),
        new(16, "XFEATURE_RSRVD_COMP_16", "HWP", UnknownName, StateRegister.Xss, false, CpuFeature.None, false, null),
        new(17, "XFEATURE_XTILE_CFG", "XTILECFG", "AMX Tile config", StateRegister.Xcr0, false, CpuFeature.AmxTile, true, 64),
        new(18, "XFEATURE_XTILE_DATA", "XTILEDATA", "AMX Tile data", StateRegister.Xcr0, true, CpuFeature.AmxTile, true, 8192),
        new(19, "XFEATURE_APX", "APX", "APX registers", StateRegister.Xcr0, false, CpuFeature.Apx, true, 128),
    ];

    public static IReadOnlyList<XFeatureInfo> All => Table;

    /// <summary>The entry for <paramref name="number"/>; numbers past APX get an "unknown" entry whose
    /// register is taken from the caller's knowledge (CPUID(0xD,i).ECX[0]) where available.</summary>
    public static XFeatureInfo Get(int number, bool supervisorHint = false)
    {
        if ((uint)number < Count)
            return Table[number];
        if ((uint)number > 63)
            throw new ArgumentOutOfRangeException(nameof(number), number, "XSAVE component numbers are 0..63");
        return new XFeatureInfo(number, $"XFEATURE_{number}", $"comp{number}", UnknownName,
            supervisorHint ? StateRegister.Xss : StateRegister.Xcr0, false, CpuFeature.None, false, null);
    }

    public static XFeatureInfo Get(XFeature feature) => Table[(int)feature];

    /// <summary>Short names of the bits of <paramref name="mask"/>, e.g. "x87|SSE|AVX".</summary>
    public static string Describe(ulong mask)
    {
        if (mask == 0)
            return "none";
        var parts = new List<string>();
        for (int i = 0; i < 64; i++)
            if ((mask & (1UL << i)) != 0)
                parts.Add(i == 63 ? "bit63" : Get(i).ShortName);
        return string.Join('|', parts);
    }
}
