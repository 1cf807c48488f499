namespace XsaveLab.Arch.Features;

/// <summary>XSAVE state-component numbers (the kernel's <c>enum xfeature</c>, arch/x86/include/asm/fpu/types.h).</summary>
/// <remarks>Numbers are architectural (SDM Vol.1 §13.1); the names follow Linux 6.17. Each member is a row of
/// <see cref="XFeatureTable"/> (same number, same name); XFeatureTableDriftTests fails when the two differ.</remarks>
public enum XFeature : byte
{
    Fp = 0,
    Sse = 1,
    Ymm = 2,
    BndRegs = 3,
    BndCsr = 4,
    Opmask = 5,
    ZmmHi256 = 6,
    Hi16Zmm = 7,
    Pt = 8,
    Pkru = 9,
    Pasid = 10,
    CetUser = 11,
    CetKernel = 12,
    Rsrvd13 = 13,
    Rsrvd14 = 14,
    Lbr = 15,
    Rsrvd16 = 16,
    XtileCfg = 17,
    XtileData = 18,
    Apx = 19,
}

/// <summary>Which register enables a component: XCR0 (user) or IA32_XSS (supervisor). SDM Vol.1 §13.2.</summary>
public enum StateRegister : byte
{
    Xcr0,
    Xss,
}
