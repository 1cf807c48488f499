namespace XsaveLab.Arch.Machine;

// XGETBV, XSETBV and the MSRs of the XSAVE feature set (SDM Vol.2 XGETBV/XSETBV, Vol.1 §13.3, §13.14, Vol.4).
public sealed partial class XsaveCpu
{
    private ulong _sCet;
    private ulong _intSspTab;

    /// <summary>XGETBV: ECX=0 → XCR0; ECX=1 → XCR0 &amp; XINUSE (needs CPUID.(EAX=0DH,ECX=1):EAX[2]);
    /// #UD with CR4.OSXSAVE=0, #GP for any other ECX. Allowed at any CPL.</summary>
    public XsaveFault Xgetbv(uint ecx, out ulong value)
    {
        value = 0;
        if (!_hasXsave)
            return XsaveFault.UD(XsaveRules.NoXsave);
        if (!OsXsave)
            return XsaveFault.UD(XsaveRules.OsXsaveClear);
        switch (ecx)
        {
            case 0:
                value = _xcr0;
                return XsaveFault.None;
            case 1 when _hasXgetbv1:
                value = _xcr0 & VisibleXinUse;
                return XsaveFault.None;
            case 1:
                return XsaveFault.GP(XsaveRules.NoXgetbv1);
            default:
                return XsaveFault.GP(XsaveRules.XcrIndex);
        }
    }

    /// <summary>XSETBV (CPL 0 only, ECX=0 only). The new XCR0 must keep x87, name only CPUID-enumerated XCR0
    /// bits (so never an IA32_XSS-only bit), not enable AVX without SSE, enable AVX-512's three components
    /// together and only with AVX, and keep the MPX and AMX pairs equal. A successful write invalidates the
    /// modified-optimization tracking.</summary>
    /// <remarks>SDM Vol.2 XSETBV and Vol.1 §13.3; Bochs XSETBV checks the same rules.</remarks>
    public XsaveFault Xsetbv(uint ecx, ulong value)
    {
        if (!_hasXsave)
            return XsaveFault.UD(XsaveRules.NoXsave);
        if (!OsXsave)
            return XsaveFault.UD(XsaveRules.OsXsaveClear);
        if (Cpl != 0)
            return XsaveFault.GP(XsaveRules.CplNotZero);
        if (ecx != 0)
            return XsaveFault.GP(XsaveRules.XcrIndex);
        var rule = Xcr0Violation(value);
        if (rule is not null)
            return XsaveFault.GP(rule);
        _xcr0 = value;
        _track = default;
        return XsaveFault.None;
    }

    /// <summary>The XSETBV rule <paramref name="value"/> breaks, or null: bit 0, then bits the CPU does not
    /// enumerate in CPUID.(EAX=0xd,ECX=0):EDX:EAX, then the combination rules of <see cref="Xcr0Rules"/>.</summary>
    public string? Xcr0Violation(ulong value)
    {
        if ((value & XFeatureMasks.Fp) == 0)
            return XsaveRules.Xcr0Bit0Clear;
        if ((value & ~_supportedXcr0) != 0)
            return XsaveRules.Xcr0Unsupported;
        return Xcr0Rules.FirstBroken(value)?.Fault;
    }

    /// <summary>RDMSR (CPL 0) of IA32_XSS, IA32_XFD, IA32_XFD_ERR and the CET MSRs. The CET user MSRs live in
    /// the CET_U component (IA32_U_CET at byte 0, IA32_PL3_SSP at 8), the supervisor SSPs in CET_S
    /// (IA32_PL0/1/2_SSP at 0/8/16), as XSAVES stores them (SDM Vol.1 §13.5.7, §13.5.8).</summary>
    public XsaveFault Rdmsr(uint msr, out ulong value)
    {
        value = 0;
        if (Cpl != 0)
            return XsaveFault.GP(XsaveRules.CplNotZero);
        if (!Implements(msr))
            return XsaveFault.GP(XsaveRules.UnknownMsr);
        value = msr switch
        {
            Msr.IA32_XSS => _xss,
            Msr.IA32_XFD => _xfd,
            Msr.IA32_XFD_ERR => _xfdErr,
            Msr.IA32_S_CET => _sCet,
            Msr.IA32_INT_SSP_TAB => _intSspTab,
            _ => BinaryPrimitives.ReadUInt64LittleEndian(CetSlot(msr, out _)),
        };
        return XsaveFault.None;
    }

    /// <summary>WRMSR (CPL 0) of the same MSRs. #GP for bits IA32_XSS cannot hold (not in CPUID(0xD,1).EDX:ECX),
    /// IA32_XFD/IA32_XFD_ERR bits of components without XFD support, IA32_U_CET/IA32_S_CET reserved bits 9:6
    /// or bits of a CET feature (shadow stack, IBT) CPUID does not enumerate,
    /// SUPPRESS together with TRACKER (Bochs <c>is_invalid_cet_control</c>) or a non-canonical legacy-bitmap
    /// base, and SSP values that are non-canonical or not 4-byte aligned (the
    /// checks KVM applies, arch/x86/kvm/x86.c <c>kvm_set_msr_common</c>/<c>is_valid_cet_msr</c>). Writing
    /// IA32_XSS or IA32_XFD invalidates the modified-optimization tracking.</summary>
    public XsaveFault Wrmsr(uint msr, ulong value)
    {
        if (Cpl != 0)
            return XsaveFault.GP(XsaveRules.CplNotZero);
        if (!Implements(msr))
            return XsaveFault.GP(XsaveRules.UnknownMsr);
        switch (msr)
        {
            case Msr.IA32_XSS:
                if ((value & ~_supportedXss) != 0)
                    return XsaveFault.GP(XsaveRules.XssReserved);
                _xss = value;
                _track = default;
                return XsaveFault.None;
            case Msr.IA32_XFD:
            case Msr.IA32_XFD_ERR:
                if ((value & ~_layout.XfdCapable) != 0)
                    return XsaveFault.GP(XsaveRules.XfdReserved);
                if (msr == Msr.IA32_XFD)
                {
                    _xfd = value;
                    _track = default;
                }
                else
                    _xfdErr = value;
                return XsaveFault.None;
            default:
                if (CetViolation(msr, value) is { } rule)
                    return XsaveFault.GP(rule);
                break;
        }
        if (msr == Msr.IA32_S_CET)
            _sCet = value;
        else if (msr == Msr.IA32_INT_SSP_TAB)
            _intSspTab = value;
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(CetSlot(msr, out int component), value);
            MarkLoaded(1UL << component);
        }
        return XsaveFault.None;
    }

    /// <summary>The rule a CET MSR value breaks, or null: control MSRs (IA32_U_CET, IA32_S_CET) reserved bits
    /// 9:6, SUPPRESS with TRACKER, non-canonical legacy-bitmap base; SSP MSRs non-canonical or (all but
    /// IA32_INT_SSP_TAB) not 4-byte aligned. XRSTORS applies the same checks to the CET components it loads.</summary>
    private string? CetViolation(uint msr, ulong value) => msr is Msr.IA32_U_CET or Msr.IA32_S_CET
        ? XsaveDataRules.CetControlViolation(value, LinearAddressBits, _hasShstk, _hasIbt)
        : XsaveDataRules.SspViolation(value, LinearAddressBits, requireAlignment: msr != Msr.IA32_INT_SSP_TAB);

    /// <summary>The WRMSR rule the CET_U/CET_S image at <paramref name="slot"/> breaks, or null (XRSTORS
    /// checks what it loads like WRMSR would; Bochs <c>xrstor_cet_u_state</c>/<c>xrstor_cet_s_state</c>).</summary>
    private string? CetImageViolation(int component, ReadOnlySpan<byte> slot) =>
        XsaveDataRules.CetComponentViolation(component, slot, LinearAddressBits, _hasShstk, _hasIbt);

    private bool Implements(uint msr) => msr switch
    {
        Msr.IA32_XSS => _hasXsaves,
        Msr.IA32_XFD or Msr.IA32_XFD_ERR => _hasXfd,
        Msr.IA32_U_CET or Msr.IA32_PL3_SSP => (_layout.Enumerated & XFeatureMasks.CetUser) != 0,
        Msr.IA32_S_CET or Msr.IA32_INT_SSP_TAB => (_layout.Enumerated & (XFeatureMasks.CetUser | XFeatureMasks.CetKernel)) != 0,
        Msr.IA32_PL0_SSP or Msr.IA32_PL1_SSP or Msr.IA32_PL2_SSP => (_layout.Enumerated & XFeatureMasks.CetKernel) != 0,
        _ => false,
    };

    private Span<byte> CetSlot(uint msr, out int component)
    {
        (component, int at) = msr switch
        {
            Msr.IA32_U_CET => ((int)XFeature.CetUser, 0),
            Msr.IA32_PL3_SSP => ((int)XFeature.CetUser, 8),
            Msr.IA32_PL0_SSP => ((int)XFeature.CetKernel, 0),
            Msr.IA32_PL1_SSP => ((int)XFeature.CetKernel, 8),
            _ => ((int)XFeature.CetKernel, 16),
        };
        return _regs.AsSpan(_layout.RegOffset[component] + at, 8);
    }

    /// <summary>The profile's linear-address width for canonical checks (57 bits with CPUID.7.0:ECX[16] LA57, else 48).</summary>
    /// <summary>Linear-address width: 57 with CPUID.(EAX=07H,ECX=0):ECX[16] LA57, else 48.</summary>
    public int LinearAddressBits => _la57 ? 57 : 48;

    /// <summary>The linear-address width of a processor described by <paramref name="p"/> (57 with LA57).</summary>
    public static int LinearAddressBitsOf(CpuProfile p) => (p.Leaf(7).Ecx >> 16 & 1) != 0 ? 57 : 48;
}
