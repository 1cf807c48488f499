namespace XsaveLab.Arch.Machine;

/// <summary>What makes the data of an XSAVE area loadable: the XSAVE header rules of XRSTOR/XRSTORS, MXCSR against
/// MXCSR_MASK, and the register rules of the components whose loads are checked (CET_U, CET_S, PASID, XTILECFG).
/// The instruction model, the kernel and KVM models and the live harness all ask these functions; each answer is
/// the rule text of <see cref="XsaveRules"/> that is broken, or null.</summary>
/// <remarks>Header: SDM Vol.1 §13.8.1 (XRSTOR standard and compacted form), §13.12 (XRSTORS). MXCSR: SDM Vol.1
/// §10.5.1.2 and §11.6.6 (MXCSR_MASK; 0 in an FXSAVE image means 0000FFBFH). CET MSRs: SDM Vol.1 ch.17 and
/// Vol.4 (IA32_U_CET/IA32_S_CET bits 9:6 reserved, SUPPRESS bit 10, TRACKER bit 11, legacy-bitmap base 63:12;
/// SSP MSRs canonical, 4-byte aligned except IA32_INT_SSP_TAB); XRSTORS loads CET_U/CET_S with the same
/// checks as WRMSR (SDM Vol.1 §13.5.7–13.5.8). IA32_PASID: bits 19:0 PASID, bit 31 valid, others reserved
/// (SDM Vol.4, ENQCMD). TILECFG: the LDTILECFG memory format (SDM Vol.2 LDTILECFG, palette 1 limits from
/// CPUID leaf 0x1D).</remarks>
public static class XsaveDataRules
{
    /// <summary>The MXCSR_MASK to use when an FXSAVE image stores 0 there (processors before DAZ).</summary>
    public const uint DefaultMxcsrMask = 0x0000FFBF;

    /// <summary>IA32_U_CET/IA32_S_CET bits 9:6 (the kernel's and KVM's CET_US_RESERVED_BITS).</summary>
    public const ulong CetReservedBits = 0x3C0;

    /// <summary>IA32_U_CET/IA32_S_CET SH_STK_EN (bit 0; the kernel's CET_SHSTK_EN).</summary>
    public const ulong CetShstkEn = 1UL << 0;

    /// <summary>IA32_U_CET/IA32_S_CET WR_SHSTK_EN (bit 1; the kernel's CET_WRSS_EN): WRSS allowed.</summary>
    public const ulong CetWrssEn = 1UL << 1;

    /// <summary>IA32_U_CET/IA32_S_CET SH_STK_EN and WR_SHSTK_EN.</summary>
    public const ulong CetShstkBits = CetShstkEn | CetWrssEn;

    /// <summary>IA32_U_CET/IA32_S_CET ENDBR_EN, LEG_IW_EN, NO_TRACK_EN, SUPPRESS_DIS, SUPPRESS, TRACKER and the
    /// legacy-bitmap base: everything indirect-branch tracking uses.</summary>
    public const ulong CetIbtBits = 0x3C | ~0x3FFUL;

    /// <summary>IA32_U_CET/IA32_S_CET SUPPRESS (bit 10).</summary>
    public const ulong CetSuppress = 1UL << 10;

    /// <summary>IA32_U_CET/IA32_S_CET TRACKER = WAIT_FOR_ENDBRANCH (bit 11).</summary>
    public const ulong CetWaitForEndbranch = 1UL << 11;

    /// <summary>IA32_PASID: PASID (bits 19:0) and valid (bit 31); every other bit is reserved.</summary>
    public const ulong PasidDefinedBits = 0x8000_0000UL | 0xF_FFFF;

    /// <summary>The MXCSR_MASK in force for an FXSAVE image's stored mask (the kernel's
    /// <c>fpu__init_system_mxcsr()</c> and the processor's rule alike).</summary>
    public static uint EffectiveMxcsrMask(uint storedMask) => storedMask == 0 ? DefaultMxcsrMask : storedMask;

    /// <summary>MXCSR has bits outside <paramref name="mxcsrMask"/>: FXRSTOR, XRSTOR and LDMXCSR raise #GP, and the
    /// kernel refuses the image with -EINVAL.</summary>
    public static bool MxcsrHasReservedBits(uint mxcsr, uint mxcsrMask) => (mxcsr & ~mxcsrMask) != 0;

    /// <summary><see cref="XsaveRules.MxcsrReserved"/> when <paramref name="mxcsr"/> has reserved bits, else null.</summary>
    public static string? MxcsrViolation(uint mxcsr, uint mxcsrMask) =>
        MxcsrHasReservedBits(mxcsr, mxcsrMask) ? XsaveRules.MxcsrReserved : null;

    /// <summary><paramref name="value"/> is canonical for <paramref name="linearAddressBits"/> (48, or 57 with
    /// 5-level paging): bits 63 down to the top implemented bit are all equal (SDM Vol.1 §3.3.7.1).</summary>
    public static bool IsCanonical(ulong value, int linearAddressBits)
    {
        int shift = 64 - linearAddressBits;
        return (ulong)((long)(value << shift) >> shift) == value;
    }

    /// <summary>The reserved-bit rules of IA32_U_CET/IA32_S_CET alone: bits 9:6 set, or SUPPRESS together with
    /// TRACKER = WAIT_FOR_ENDBRANCH.</summary>
    public static string? CetControlBitsViolation(ulong value)
    {
        if ((value & CetReservedBits) != 0)
            return XsaveRules.CetReserved;
        if ((value & (CetSuppress | CetWaitForEndbranch)) == (CetSuppress | CetWaitForEndbranch))
            return XsaveRules.CetSuppressAndTracker;
        return null;
    }

    /// <summary>Every rule of an IA32_U_CET/IA32_S_CET value: <see cref="CetControlBitsViolation"/>, the bits of
    /// a CET feature the processor does not enumerate (SH_STK_EN/WR_SHSTK_EN need CPUID.(EAX=07H,ECX=0):ECX[7]
    /// CET_SS, the indirect-branch-tracking bits 5:2 and 63:10 need CPUID.(EAX=07H,ECX=0):EDX[20] CET_IBT: SDM
    /// Vol.4 IA32_U_CET/IA32_S_CET, the rule KVM's <c>kvm_is_valid_u_s_cet()</c> applies to a guest's CPUID),
    /// then a non-canonical legacy-bitmap base (bits 63:12).</summary>
    public static string? CetControlViolation(ulong value, int linearAddressBits, bool shstk = true, bool ibt = true)
    {
        if (CetControlBitsViolation(value) is { } rule)
            return rule;
        if (!shstk && (value & CetShstkBits) != 0)
            return XsaveRules.CetNoShstk;
        if (!ibt && (value & CetIbtBits) != 0)
            return XsaveRules.CetNoIbt;
        return IsCanonical(value & ~0xFFFUL, linearAddressBits) ? null : XsaveRules.NonCanonical;
    }

    /// <summary>The rules of a shadow-stack pointer MSR: canonical, and 4-byte aligned when
    /// <paramref name="requireAlignment"/> (all but IA32_INT_SSP_TAB).</summary>
    public static string? SspViolation(ulong value, int linearAddressBits, bool requireAlignment = true)
    {
        if (!IsCanonical(value, linearAddressBits))
            return XsaveRules.NonCanonical;
        return requireAlignment && (value & 3) != 0 ? XsaveRules.SspMisaligned : null;
    }

    /// <summary>The rule the CET_U image (U_CET at 0, PL3_SSP at 8) or CET_S image (PL0/1/2_SSP at 0/8/16)
    /// <paramref name="data"/> breaks, or null; other components are not checked here.</summary>
    public static string? CetComponentViolation(int component, ReadOnlySpan<byte> data, int linearAddressBits, bool shstk = true, bool ibt = true) => component switch
    {
        (int)XFeature.CetUser => CetControlViolation(Q(data, 0), linearAddressBits, shstk, ibt) ?? SspViolation(Q(data, 8), linearAddressBits),
        (int)XFeature.CetKernel => SspViolation(Q(data, 0), linearAddressBits)
                                   ?? SspViolation(Q(data, 8), linearAddressBits)
                                   ?? SspViolation(Q(data, 16), linearAddressBits),
        _ => null,
    };

    /// <summary>IA32_PASID has bits other than the PASID and the valid bit.</summary>
    public static string? PasidViolation(ulong value) => (value & ~PasidDefinedBits) != 0 ? XsaveRules.PasidReserved : null;

    /// <summary>The LDTILECFG rules of a 64-byte tile configuration: palette 0 (everything zero) or 1, reserved
    /// bytes 2..15, 32..47 and 56..63 zero, and for palette 1 each tile's bytes per row and rows within
    /// <paramref name="maxBytesPerRow"/> and <paramref name="maxRows"/> (CPUID.(EAX=1DH,ECX=1): 64 and 16 on
    /// every AMX processor), a tile either fully configured or fully zero.</summary>
    public static string? TileConfigViolation(ReadOnlySpan<byte> cfg, int maxBytesPerRow = 64, int maxRows = 16)
    {
        if (cfg.Length < 64)
            throw new ArgumentException($"a tile configuration has 64 bytes, got {cfg.Length}", nameof(cfg));
        byte palette = cfg[0];
        if (palette == 0)
            return cfg[..64].IndexOfAnyExcept((byte)0) >= 0 ? XsaveRules.TileConfigPalette : null;
        if (palette != 1)
            return XsaveRules.TileConfigPalette;
        if (cfg[2..16].IndexOfAnyExcept((byte)0) >= 0 || cfg[32..48].IndexOfAnyExcept((byte)0) >= 0 || cfg[56..64].IndexOfAnyExcept((byte)0) >= 0)
            return XsaveRules.TileConfigReserved;
        for (int t = 0; t < 8; t++)
        {
            int colsb = BinaryPrimitives.ReadUInt16LittleEndian(cfg[(16 + 2 * t)..]), rows = cfg[48 + t];
            if (colsb > maxBytesPerRow || rows > maxRows || (colsb == 0) != (rows == 0))
                return XsaveRules.TileConfigShape;
        }
        return null;
    }

    /// <summary>The rule the data of component <paramref name="component"/> breaks when loaded, or null: CET_U,
    /// CET_S, PASID and XTILECFG have rules; any bit pattern of the others loads.</summary>
    public static string? ComponentViolation(int component, ReadOnlySpan<byte> data, int linearAddressBits) => component switch
    {
        (int)XFeature.CetUser or (int)XFeature.CetKernel => CetComponentViolation(component, data, linearAddressBits),
        (int)XFeature.Pasid => PasidViolation(Q(data, 0)),
        (int)XFeature.XtileCfg => TileConfigViolation(data),
        _ => null,
    };

    /// <summary>The XSAVE-header rules of XRSTOR (<paramref name="xrstors"/> false) or XRSTORS for the 64 header
    /// bytes <paramref name="header"/>: compacted form needs XSAVEC support, XCOMP_BV[62:0] within
    /// <paramref name="enabled"/> (XCR0, with IA32_XSS for XRSTORS), XSTATE_BV within XCOMP_BV and bytes 16..63
    /// zero; standard form (XRSTOR only) XSTATE_BV within <paramref name="xcr0"/> and bytes 8..23 zero.
    /// Checked in this order; the first broken rule is returned.</summary>
    public static string? XrstorHeaderViolation(ReadOnlySpan<byte> header, ulong xcr0, ulong enabled, bool hasXsavec, bool xrstors) =>
        XrstorHeaderViolationAt(header, xcr0, enabled, hasXsavec, xrstors)?.Rule;

    /// <summary><see cref="XrstorHeaderViolation"/> with the area offset of the first offending byte (the header
    /// starts at <see cref="XsaveOffsets.Header"/>).</summary>
    public static ImageViolation? XrstorHeaderViolationAt(ReadOnlySpan<byte> header, ulong xcr0, ulong enabled, bool hasXsavec, bool xrstors)
    {
        ulong xstateBv = Q(header, XsaveOffsets.XstateBv - XsaveOffsets.Header);
        ulong xcompBv = Q(header, XsaveOffsets.XcompBv - XsaveOffsets.Header);
        bool compacted = (xcompBv & XFeatureMasks.CompactedFormat) != 0;
        const int formatByte = XsaveOffsets.XcompBv + 7; // XCOMP_BV[63]
        if (xrstors && !compacted)
            return new(XsaveRules.XrstorsNeedsCompacted, formatByte);
        if (compacted)
        {
            if (!hasXsavec)
                return new(XsaveRules.CompactedNeedsXsavec, formatByte);
            ulong notEnabled = xcompBv & ~XFeatureMasks.CompactedFormat & ~enabled;
            if (notEnabled != 0)
                return new(XsaveRules.XcompBvNotEnabled, ByteOfLowestBit(notEnabled, XsaveOffsets.XcompBv));
            ulong outside = xstateBv & ~(xcompBv & ~XFeatureMasks.CompactedFormat);
            if (outside != 0)
                return new(XsaveRules.XstateBvNotInXcompBv, ByteOfLowestBit(outside, XsaveOffsets.XstateBv));
            if (FirstNonZero(header, XsaveOffsets.HeaderReserved - XsaveOffsets.Header, XsaveOffsets.HeaderSize) is int r)
                return new(XsaveRules.CompactedHeaderReserved, XsaveOffsets.Header + r);
        }
        else
        {
            ulong outside = xstateBv & ~xcr0;
            if (outside != 0)
                return new(XsaveRules.XstateBvNotInXcr0, ByteOfLowestBit(outside, XsaveOffsets.XstateBv));
            if (FirstNonZero(header, XsaveOffsets.XcompBv - XsaveOffsets.Header, XsaveOffsets.HeaderReserved + 8 - XsaveOffsets.Header) is int r)
                return new(XsaveRules.StandardHeaderReserved, XsaveOffsets.Header + r);
        }
        return null;
    }

    /// <summary><see cref="MxcsrViolation"/> with the offset of the byte of MXCSR holding its lowest reserved bit.</summary>
    public static ImageViolation? MxcsrViolationAt(uint mxcsr, uint mxcsrMask) =>
        MxcsrHasReservedBits(mxcsr, mxcsrMask) ? new(XsaveRules.MxcsrReserved, ByteOfLowestBit(mxcsr & ~mxcsrMask, XsaveOffsets.Mxcsr)) : null;

    /// <summary>Every check XRSTOR/XRSTORS makes on the contents of <paramref name="area"/> before it changes a
    /// register, in the processor's order: the header (<see cref="XrstorHeaderViolationAt"/>), then MXCSR when the
    /// instruction loads it from memory — the standard form whenever <paramref name="rfbm"/> names SSE or AVX, the
    /// compacted form when it loads SSE (RFBM[1] and XSTATE_BV[1]; SDM Vol.1 §13.8.1, §13.8.2). The instruction
    /// model runs these checks, and the kernel's models of its own XRSTOR (signal return) call the same.</summary>
    public static ImageViolation? XrstorImageViolation(ReadOnlySpan<byte> area, ulong xcr0, ulong enabled, bool hasXsavec, bool xrstors,
        ulong rfbm, uint mxcsrMask)
    {
        if (XrstorHeaderViolationAt(area.Slice(XsaveOffsets.Header, XsaveOffsets.HeaderSize), xcr0, enabled, hasXsavec, xrstors) is { } h)
            return h;
        if (!XrstorLoadsMxcsr(area, rfbm))
            return null;
        return MxcsrViolationAt(BinaryPrimitives.ReadUInt32LittleEndian(area[XsaveOffsets.Mxcsr..]), mxcsrMask);
    }

    /// <summary>XRSTOR/XRSTORS with <paramref name="rfbm"/> loads MXCSR from <paramref name="area"/>: the standard
    /// form when RFBM[1] or RFBM[2] is set, whatever XSTATE_BV says; the compacted form, which treats MXCSR as SSE
    /// state, only when it loads SSE (SDM Vol.1 §13.8.1, §13.8.2).</summary>
    public static bool XrstorLoadsMxcsr(ReadOnlySpan<byte> area, ulong rfbm)
    {
        ulong xstateBv = Q(area, XsaveOffsets.XstateBv);
        bool compacted = (Q(area, XsaveOffsets.XcompBv) & XFeatureMasks.CompactedFormat) != 0;
        return compacted ? (rfbm & xstateBv & XFeatureMasks.Sse) != 0 : (rfbm & (XFeatureMasks.Sse | XFeatureMasks.Ymm)) != 0;
    }

    /// <summary>The area offset of the byte holding the lowest set bit of <paramref name="bits"/>, a little-endian
    /// field at <paramref name="fieldOffset"/>.</summary>
    public static int ByteOfLowestBit(ulong bits, int fieldOffset) => fieldOffset + BitOperations.TrailingZeroCount(bits) / 8;

    private static ulong Q(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);

    private static int? FirstNonZero(ReadOnlySpan<byte> b, int from, int to) =>
        b[from..to].IndexOfAnyExcept((byte)0) is int i and >= 0 ? from + i : null;
}
