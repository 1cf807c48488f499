namespace XsaveLab.Arch.Machine;

/// <summary>The rule texts carried by <see cref="XsaveFault.Rule"/>, one per architectural check (SDM Vol.1
/// ch.13, Vol.2 instruction pages). Tests compare against these constants.</summary>
public static class XsaveRules
{
    public const string NoXsave = "CPUID.1:ECX.XSAVE[26]=0";
    public const string OsXsaveClear = "CR4.OSXSAVE=0";
    public const string NoXsaveopt = "CPUID.(EAX=0xd,ECX=1):EAX.XSAVEOPT[0]=0";
    public const string NoXsavec = "CPUID.(EAX=0xd,ECX=1):EAX.XSAVEC[1]=0";
    public const string NoXsaves = "CPUID.(EAX=0xd,ECX=1):EAX.XSS[3]=0";
    public const string TaskSwitched = "CR0.TS=1";
    public const string NoFxsr = "CPUID.1:EDX.FXSR[24]=0";
    public const string FxMisaligned = "FXSAVE/FXRSTOR memory operand not 16-byte aligned";
    public const string CplNotZero = "CPL>0";
    public const string Misaligned = "memory operand not 64-byte aligned";
    public const string XstateBvNotInXcr0 = "standard form: XSTATE_BV has bits outside XCR0";
    public const string StandardHeaderReserved = "standard form: header bytes 8..23 (XCOMP_BV and next qword) not 0";
    public const string CompactedNeedsXsavec = "XCOMP_BV[63]=1 but compaction (XSAVEC) not supported";
    public const string XcompBvNotEnabled = "compacted form: XCOMP_BV[62:0] has bits outside XCR0 (XRSTORS: XCR0|IA32_XSS)";
    public const string XstateBvNotInXcompBv = "compacted form: XSTATE_BV has bits not set in XCOMP_BV";
    public const string CompactedHeaderReserved = "compacted form: header bytes 16..63 not 0";
    public const string XrstorsNeedsCompacted = "XRSTORS: XCOMP_BV[63]=0";
    public const string MxcsrReserved = "MXCSR has bits outside MXCSR_MASK";
    public const string XfdArmed = "XFD-armed component (IA32_XFD[i]=1) used";
    public const string XcrIndex = "ECX names no XCR";
    public const string NoXgetbv1 = "XGETBV ECX=1 without CPUID.(EAX=0xd,ECX=1):EAX[2]";
    public const string Xcr0Bit0Clear = "XCR0[0] (x87) clear";
    public const string Xcr0Unsupported = "XCR0 bit not in CPUID.(EAX=0xd,ECX=0):EDX:EAX";
    public const string Xcr0AvxWithoutSse = "XCR0[2] (AVX) set with XCR0[1] (SSE) clear";
    public const string Xcr0Avx512 = "XCR0[7:5] (AVX-512) not all equal, or set without XCR0[2:1]";
    public const string Xcr0MpxPair = "XCR0[3] (BNDREGS) differs from XCR0[4] (BNDCSR)";
    public const string Xcr0AmxPair = "XCR0[17] (XTILECFG) differs from XCR0[18] (XTILEDATA)";
    public const string Xcr0ApxMpx = "XCR0[19] (APX) set together with XCR0[4:3] (MPX)";
    public const string UnknownMsr = "RDMSR/WRMSR of an MSR the processor does not implement";
    public const string XssReserved = "IA32_XSS bit not in CPUID.(EAX=0xd,ECX=1):EDX:ECX";
    public const string XfdReserved = "IA32_XFD/IA32_XFD_ERR bit for a component without CPUID.(EAX=0xd,ECX=i):ECX[2]";
    public const string CetReserved = "IA32_U_CET/IA32_S_CET reserved bits 9:6 set";
    public const string CetNoShstk = "IA32_U_CET/IA32_S_CET shadow-stack bits 1:0 set without CPUID.(EAX=0x7,ECX=0):ECX[7] CET_SS";
    public const string CetNoIbt = "IA32_U_CET/IA32_S_CET indirect-branch-tracking bits set without CPUID.(EAX=0x7,ECX=0):EDX[20] CET_IBT";
    public const string CetSuppressAndTracker = "IA32_U_CET/IA32_S_CET with SUPPRESS (bit 10) and TRACKER=WAIT_FOR_ENDBRANCH (bit 11) both set";
    public const string NonCanonical = "MSR value is not a canonical address";
    public const string SspMisaligned = "shadow-stack pointer MSR not 4-byte aligned";
    public const string ComponentDisabled = "component not enabled in XCR0";
    public const string PasidReserved = "IA32_PASID bits other than PASID[19:0] and VALID[31] set";
    public const string TileConfigPalette = "TILECFG palette not 0 or 1, or palette 0 with non-zero fields";
    public const string TileConfigReserved = "TILECFG reserved bytes 2..15, 32..47 or 56..63 not 0";
    public const string TileConfigShape = "TILECFG tile with more bytes per row or rows than palette 1 allows, or only one of them zero";
}
