namespace XsaveLab.Arch.Features;

/// <summary>Architectural masks and the Linux 6.17 (x86-64) masks built from them.</summary>
/// <remarks>arch/x86/include/asm/fpu/xstate.h and types.h (v6.17-rc3); values in docs/linux-fpu-core.md, "Masks". These are constants so that they can be used in
/// patterns and constant expressions; XFeatureTableDriftTests derives each of them from <see cref="XFeatureTable"/>
/// and fails when a constant and the table disagree.</remarks>
public static class XFeatureMasks
{
    public const ulong Fp = 1UL << 0;
    public const ulong Sse = 1UL << 1;
    public const ulong FpSse = Fp | Sse;
    public const ulong Ymm = 1UL << 2;
    public const ulong BndRegs = 1UL << 3;
    public const ulong BndCsr = 1UL << 4;
    public const ulong Mpx = BndRegs | BndCsr;
    public const ulong Opmask = 1UL << 5;
    public const ulong ZmmHi256 = 1UL << 6;
    public const ulong Hi16Zmm = 1UL << 7;
    public const ulong Avx512 = Opmask | ZmmHi256 | Hi16Zmm;
    public const ulong Pt = 1UL << 8;
    public const ulong Pkru = 1UL << 9;
    public const ulong Pasid = 1UL << 10;
    public const ulong CetUser = 1UL << 11;
    public const ulong CetKernel = 1UL << 12;
    public const ulong Lbr = 1UL << 15;
    public const ulong XtileCfg = 1UL << 17;
    public const ulong XtileData = 1UL << 18;
    public const ulong Xtile = XtileCfg | XtileData;
    public const ulong Apx = 1UL << 19;

    /// <summary>Bit 63 of XCOMP_BV: the area is in compacted form (SDM Vol.1 §13.4.3).</summary>
    public const ulong CompactedFormat = 1UL << 63;

    /// <summary>Components 2..62 (everything but x87, SSE and the format bit): XFEATURE_MASK_EXTEND.</summary>
    public const ulong Extend = ~(FpSse | CompactedFormat);

    /// <summary>XFEATURE_MASK_USER_SUPPORTED (x86-64).</summary>
    public const ulong UserSupported = FpSse | Ymm | Opmask | ZmmHi256 | Hi16Zmm | Pkru | BndRegs | BndCsr | Xtile | Apx;

    /// <summary>XFEATURE_MASK_USER_RESTORE: PKRU is switched eagerly, not by XRSTOR of user state.</summary>
    public const ulong UserRestore = UserSupported & ~Pkru;

    /// <summary>XFEATURE_MASK_USER_DYNAMIC: features whose buffer space is allocated on first use (AMX tile data).</summary>
    public const ulong UserDynamic = XtileData;

    /// <summary>XFEATURE_MASK_SIGFRAME_INITOPT: written to signal frames only when in use.</summary>
    public const ulong SigframeInitOpt = Xtile | UserDynamic;

    /// <summary>XFEATURE_MASK_SUPERVISOR_SUPPORTED (x86-64, v6.17).</summary>
    public const ulong SupervisorSupported = Pasid | CetUser | CetKernel;

    /// <summary>XFEATURE_MASK_GUEST_SUPERVISOR (v6.17): supervisor features that <c>host_default_mask()</c>
    /// (arch/x86/kernel/fpu/xstate.c) keeps out of the host's default features, so only guest fpstates hold them.</summary>
    public const ulong GuestSupervisor = CetKernel;

    /// <summary>Components the SDM assigns to XCR0 (user state, SDM Vol.1 §13.2): 0–7, 9, 17–19.</summary>
    public const ulong ArchitecturalUser = FpSse | Ymm | Mpx | Avx512 | Pkru | Xtile | Apx;

    /// <summary>Components the SDM assigns to IA32_XSS (supervisor state, SDM Vol.1 §13.2): 8 and 10–16.</summary>
    public const ulong ArchitecturalSupervisor = Pt | Pasid | CetUser | CetKernel | (1UL << 13) | (1UL << 14) | Lbr | (1UL << 16);

    /// <summary>XFEATURE_MASK_INDEPENDENT: supervisor features saved by explicit calls only (arch LBR).</summary>
    public const ulong Independent = Lbr;

    /// <summary>AVX512_TRACKING_MASK (core.c): components whose use is time-stamped.</summary>
    public const ulong Avx512Tracking = ZmmHi256 | Hi16Zmm;

    public static bool IsSubset(ulong inner, ulong outer) => (inner & ~outer) == 0;

    /// <summary>Index of the highest set bit, or -1 for 0 (the kernel's fls64()-1).</summary>
    public static int Topmost(ulong mask) => mask == 0 ? -1 : 63 - System.Numerics.BitOperations.LeadingZeroCount(mask);
}
