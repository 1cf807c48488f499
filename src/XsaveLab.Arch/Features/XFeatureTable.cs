namespace XsaveLab.Arch.Features;

/// <summary>The one table of XSAVE components 0..19, plus a description for any other number. The
/// <see cref="XFeature"/> enum and the constants of <see cref="XFeatureMasks"/> are checked against it by
/// tests (XFeatureTableDriftTests), so an edit to one without the other fails the build's tests.</summary>
/// <remarks>Numbers, user/supervisor and SDM names: SDM Vol.1 §13.1–13.2 and the per-component sections
/// §13.5.1–13.5.11 (register layouts); kernel names and boot-log strings: arch/x86/include/asm/fpu/types.h
/// <c>enum xfeature</c> and arch/x86/kernel/fpu/xstate.c (v6.17) <c>xfeature_names[]</c>, gates:
/// <c>xsave_cpuid_features[]</c>; sizes: the kernel's per-component structs checked by
/// <c>check_xstate_against_struct()</c>; Linux classes: arch/x86/include/asm/fpu/xstate.h.
/// Note that names 6 and 7 really read "AVX-512 Hi256" and "AVX-512 ZMM_Hi256" in the kernel.</remarks>
public static class XFeatureTable
{
    public const int Count = 20;
    public const string UnknownName = "unknown xstate feature";

    private const StateRegister U = StateRegister.Xcr0, S = StateRegister.Xss;
    private const XFeatureLinuxClass Usr = XFeatureLinuxClass.UserSupported, Sup = XFeatureLinuxClass.SupervisorSupported,
        Ind = XFeatureLinuxClass.Independent, Gst = XFeatureLinuxClass.SupervisorGuestOnly, Uns = XFeatureLinuxClass.Unsupported;

    private static readonly XFeatureInfo[] Table =
    [
        new(0, "Fp", "XFEATURE_FP", "x87 state", "x87", "x87 floating point registers", U, Usr, false, CpuFeature.Fpu, true, 160,
        [
            new("FCW", 16, XsaveOffsets.Fcw), new("FSW", 16, XsaveOffsets.Fsw), new("FTW", 8, XsaveOffsets.Ftw),
            new("FOP", 11, XsaveOffsets.Fop), new("FIP", 64, XsaveOffsets.Fip), new("FDP", 64, XsaveOffsets.Fdp),
            .. Seq("ST", 0, XsaveOffsets.StCount, 80, XsaveOffsets.StSpace, XsaveOffsets.StStride),
        ]),
        new(1, "Sse", "XFEATURE_SSE", "SSE state", "SSE", "SSE registers", U, Usr, false, CpuFeature.Sse, true, 256,
        [
            new("MXCSR", 32, XsaveOffsets.Mxcsr), new("MXCSR_MASK", 32, XsaveOffsets.MxcsrMask),
            .. Seq("XMM", 0, XsaveOffsets.XmmCount, 128, XsaveOffsets.XmmSpace, XsaveOffsets.XmmStride),
        ]),
        new(2, "Ymm", "XFEATURE_YMM", "AVX state", "AVX", "AVX registers", U, Usr, false, CpuFeature.Avx, true, 256,
            Seq("YMM", 0, 16, 128, 0, 16, "_Hi128")),
        new(3, "BndRegs", "XFEATURE_BNDREGS", "BNDREG state", "BNDREGS", "MPX bounds registers", U, Usr, false, CpuFeature.Mpx, true, 64,
            Seq("BND", 0, 4, 128, 0, 16)),
        new(4, "BndCsr", "XFEATURE_BNDCSR", "BNDCSR state", "BNDCSR", "MPX CSR", U, Usr, false, CpuFeature.Mpx, true, 64,
            [new("BNDCFGU", 64, 0), new("BNDSTATUS", 64, 8)]),
        new(5, "Opmask", "XFEATURE_OPMASK", "opmask state", "opmask", "AVX-512 opmask", U, Usr, false, CpuFeature.Avx512F, true, 64,
            Seq("K", 0, 8, 64, 0, 8)),
        new(6, "ZmmHi256", "XFEATURE_ZMM_Hi256", "ZMM_Hi256 state", "ZMM_Hi256", "AVX-512 Hi256", U, Usr, false, CpuFeature.Avx512F, true, 512,
            Seq("ZMM", 0, 16, 256, 0, 32, "_Hi256")),
        new(7, "Hi16Zmm", "XFEATURE_Hi16_ZMM", "Hi16_ZMM state", "Hi16_ZMM", "AVX-512 ZMM_Hi256", U, Usr, false, CpuFeature.Avx512F, true, 1024,
            Seq("ZMM", 16, 16, 512, 0, 64)),
        new(8, "Pt", "XFEATURE_PT_UNIMPLEMENTED_SO_FAR", "PT state", "PT", "Processor Trace (unused)", S, Uns, false, CpuFeature.IntelPt, true, null, []),
        new(9, "Pkru", "XFEATURE_PKRU", "PKRU state", "PKRU", "Protection Keys User registers", U, Usr, false, CpuFeature.OsPke, true, 8,
            [new("PKRU", 32, 0)]),
        new(10, "Pasid", "XFEATURE_PASID", "PASID state", "PASID", "PASID state", S, Sup, false, CpuFeature.Enqcmd, true, 8,
            [new("IA32_PASID", 64, 0)]),
        new(11, "CetUser", "XFEATURE_CET_USER", "CET_U state", "CET_U", "Control-flow User registers", S, Sup, false, CpuFeature.Shstk, true, 16,
            [new("U_CET", 64, 0), new("PL3_SSP", 64, 8)]),
        new(12, "CetKernel", "XFEATURE_CET_KERNEL", "CET_S state", "CET_S", "Control-flow Kernel registers (KVM only)", S, Gst, false, CpuFeature.Shstk, true, 24,
            [new("PL0_SSP", 64, 0), new("PL1_SSP", 64, 8), new("PL2_SSP", 64, 16)]),
        new(13, "Rsrvd13", "XFEATURE_RSRVD_COMP_13", "HDC state", "HDC", UnknownName, S, Uns, false, CpuFeature.None, false, null, []),
        new(14, "Rsrvd14", "XFEATURE_RSRVD_COMP_14", "UINTR state", "UINTR", UnknownName, S, Uns, false, CpuFeature.None, false, null, []),
        new(15, "Lbr", "XFEATURE_LBR", "LBR state", "LBR", UnknownName, S, Ind, false, CpuFeature.None, false, null, []),
        new(16, "Rsrvd16", "XFEATURE_RSRVD_COMP_16", "HWP state", "HWP", UnknownName, S, Uns, false, CpuFeature.None, false, null, []),
        new(17, "XtileCfg", "XFEATURE_XTILE_CFG", "XTILECFG state", "XTILECFG", "AMX Tile config", U, Usr, false, CpuFeature.AmxTile, true, 64,
            [new("TILECFG", 512, 0)]),
        new(18, "XtileData", "XFEATURE_XTILE_DATA", "XTILEDATA state", "XTILEDATA", "AMX Tile data", U, Usr, true, CpuFeature.AmxTile, true, 8192,
            Seq("TMM", 0, 8, 8192, 0, 1024)),
        new(19, "Apx", "XFEATURE_APX", "APX state", "APX", "APX registers", U, Usr, false, CpuFeature.Apx, true, 128,
            Seq("R", 16, 16, 64, 0, 8)),
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
        return new XFeatureInfo(number, $"Comp{number}", $"XFEATURE_{number}", $"state component {number}", $"comp{number}", UnknownName,
            supervisorHint ? StateRegister.Xss : StateRegister.Xcr0, XFeatureLinuxClass.Unsupported, false, CpuFeature.None, false, null, []);
    }

    public static XFeatureInfo Get(XFeature feature) => Table[(int)feature];

    /// <summary>OR of the masks of the entries that satisfy <paramref name="predicate"/>.</summary>
    public static ulong MaskOf(Func<XFeatureInfo, bool> predicate)
    {
        ulong m = 0;
        foreach (var f in Table)
            if (predicate(f))
                m |= f.Mask;
        return m;
    }

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

    /// <summary><paramref name="count"/> registers named prefix+n(+suffix) from n = <paramref name="first"/>,
    /// <paramref name="bits"/> wide, at <paramref name="start"/> + k·<paramref name="stride"/>.</summary>
    private static XRegister[] Seq(string prefix, int first, int count, int bits, int start, int stride, string suffix = "")
    {
        var r = new XRegister[count];
        for (int k = 0; k < count; k++)
            r[k] = new XRegister($"{prefix}{first + k}{suffix}", bits, start + k * stride);
        return r;
    }
}
