namespace XsaveLab.Kvm.Caps;

/// <summary><c>kvm_caps</c> and the KVM CPU capabilities relevant to XSAVE, computed at module load from the host
/// kernel's configuration.</summary>
/// <remarks>arch/x86/kvm/x86.c (<c>KVM_SUPPORTED_XCR0</c>, <c>KVM_SUPPORTED_XSS</c>, <c>kvm_setup_xss_caps</c> in 6.18),
/// arch/x86/kvm/cpuid.c (<c>kvm_set_cpu_caps</c>), svm.c (no MPX, no IBT on AMD).</remarks>
public sealed record KvmCaps(
    HostFpuConfig Host,
    KvmRelease Release,
    KvmFlavour Flavour,
    bool Svm,
    ulong SupportedXcr0,
    ulong SupportedXss,
    uint D1Eax,
    bool Shstk,
    bool Ibt,
    bool Xfd,
    IReadOnlyList<string> Notes)
{
    /// <summary>KVM_SUPPORTED_XCR0: FP|SSE|YMM|BNDREGS|BNDCSR|AVX512|PKRU|XTILE.</summary>
    public const ulong KvmSupportedXcr0 = XFeatureMasks.FpSse | XFeatureMasks.Ymm | XFeatureMasks.Mpx |
        XFeatureMasks.Avx512 | XFeatureMasks.Pkru | XFeatureMasks.Xtile;

    /// <summary>XFEATURE_MASK_CET_ALL (6.18).</summary>
    public const ulong CetAll = XFeatureMasks.CetUser | XFeatureMasks.CetKernel;

    public CpuProfile Cpu => Host.Cpu;

    /// <summary>The CPUID.(0xD,1):EAX bits KVM passes through, each with the boot_cpu_data feature it needs.</summary>
    private static readonly (uint Bit, CpuFeature Feature)[] D1EaxFeatures =
    [
        (0x1, CpuFeature.Xsaveopt), (0x2, CpuFeature.Xsavec), (0x4, CpuFeature.Xgetbv1), (0x8, CpuFeature.Xsaves), (0x10, CpuFeature.Xfd),
    ];

    public static KvmCaps Create(HostFpuConfig host, KvmRelease release, KvmFlavour? flavour = null)
    {
        flavour ??= KvmFlavour.Upstream;
        var cpu = host.Cpu;
        var notes = new List<string>();
        bool svm = cpu.Vendor is CpuVendor.Amd or CpuVendor.Hygon;

        // host_xcr0 is read with XGETBV at module init: fpu_user_cfg.max_features.
        ulong xcr0 = host.XsaveEnabled ? host.Xcr0 & KvmSupportedXcr0 : 0;
        if (svm)
            xcr0 &= ~XFeatureMasks.Mpx;

        // kvm_cpu_cap_init() ANDs the raw CPUID word with boot_cpu_data: a feature the host kernel cleared (AMD
        // erratum 1386 takes XSAVES on family 17h, noxsaves, clearcpuid=) is not offered to guests either.
        var bootCaps = host.System.Caps;
        uint d1 = 0;
        if (host.XsaveEnabled)
        {
            d1 = cpu.Leaf(0xD, 1).Eax & 0x1F; // XSAVEOPT, XSAVEC, XGETBV1, XSAVES, XFD (x86-64)
            foreach (var (bit, f) in D1EaxFeatures)
                if (!bootCaps.Has(f))
                    d1 &= ~bit;
            if (!cpu.HasXfd)
                d1 &= ~0x10u;
            if (bootCaps.Erratum1386Applied)
                notes.Add("host kernel cleared XSAVES (AMD erratum 1386): KVM does not offer XSAVES, so no guest XSS");
        }
        if (flavour.PruneD1Eax)
            d1 = 0;
        bool xsaves = (d1 & 0x8) != 0;
        bool xfd = (d1 & 0x10) != 0 && !flavour.PruneXfd;

        bool shstk = false, ibt = false;
        ulong xss = 0;
        if (release.HasCet() && !flavour.PruneCet)
        {
            shstk = cpu.Has(CpuFeature.Shstk) && bootCaps.Has(CpuFeature.Shstk);
            ibt = cpu.Has(CpuFeature.Ibt) && bootCaps.Has(CpuFeature.Ibt) && !svm;
            xss = xsaves ? host.Xss & CetAll : 0;
            if (!shstk && !ibt)
                xss &= ~CetAll;
            if ((xss & CetAll) != CetAll)
            {
                if (shstk || ibt)
                    notes.Add($"supported_xss lacks the CET pair (host IA32_XSS 0x{host.Xss:x}): SHSTK and IBT are not offered to guests");
                shstk = ibt = false;
                xss &= ~CetAll;
            }
        }
        else if (!release.HasCet())
            notes.Add("KVM ≤6.17: KVM_SUPPORTED_XSS = 0, no CET for guests");

        if (!host.Variant.CetKernelSupported && release.HasCet() && cpu.Has(CpuFeature.Shstk))
            notes.Add($"kernel {host.Variant.Name}: no guest CET-S space (CET_KERNEL unsupported), so CET MSRs PL0-2_SSP would need manual switching by KVM");
        return new KvmCaps(host, release, flavour, svm, xcr0, xss, d1, shstk, ibt, xfd, notes);
    }

    /// <summary><c>kvm_get_filtered_xcr0()</c>: supported XCR0 cut by the caller's guest permission; XTILE_CFG is
    /// dropped with XTILE_DATA (CFG without DATA makes XSETBV #GP).</summary>
    public ulong FilteredXcr0(ulong guestGroupPerm)
    {
        ulong x = SupportedXcr0;
        if ((x & XFeatureMasks.XtileData) != 0)
        {
            x &= guestGroupPerm;
            if ((x & XFeatureMasks.XtileData) == 0)
                x &= ~XFeatureMasks.XtileCfg;
        }
        return x;
    }

    /// <summary><c>xstate_required_size(xstate_bv, compacted)</c> (arch/x86/kvm/cpuid.c): starts at 576 and takes
    /// <c>max(ret, offset + size)</c> per component, the compacted offset being <c>ret</c> rounded up to 64 when
    /// CPUID(0xD,i).ECX[1] says so, the standard one CPUID(0xD,i).EBX.</summary>
    public int XstateRequiredSize(ulong xstateBv, bool compacted)
    {
        int ret = XsaveOffsets.ExtendedStart;
        xstateBv &= XFeatureMasks.Extend;
        for (int i = 2; i < 63 && xstateBv >> i != 0; i++)
        {
            if ((xstateBv >> i & 1) == 0 || Cpu.Component(i) is not { } c)
                continue;
            int offset = compacted ? (c.Aligned64 ? XsaveOffsets.Align64(ret) : ret) : c.StandardOffset ?? 0;
            ret = Math.Max(ret, offset + c.Size);
        }
        return ret;
    }

    /// <summary>KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2): <c>max(xstate_required_size(filtered xcr0, false), 4096)</c>.</summary>
    public int Xsave2Size(ulong guestGroupPerm) =>
        Math.Max(XstateRequiredSize(FilteredXcr0(guestGroupPerm), false), KvmAbi.XsaveStructSize);

    /// <summary>KVM_GET_DEVICE_ATTR(group 0, KVM_X86_XCOMP_GUEST_SUPP): supported XCR0, not filtered by permission.</summary>
    public ulong XcompGuestSupp => SupportedXcr0;

    /// <summary>The MSRs KVM_GET_MSR_INDEX_LIST reports among the XSAVE/CET ones (<c>kvm_probe_msr_to_save()</c>).</summary>
    public IReadOnlyList<uint> MsrsToSave()
    {
        var l = new List<uint>();
        if (Release.HasCet() ? SupportedXss != 0 : false)
            l.Add(Arch.Machine.Msr.IA32_XSS);
        if (Xfd)
        {
            l.Add(Arch.Machine.Msr.IA32_XFD);
            l.Add(Arch.Machine.Msr.IA32_XFD_ERR);
        }
        if (Shstk || Ibt)
        {
            l.Add(Arch.Machine.Msr.IA32_U_CET);
            l.Add(Arch.Machine.Msr.IA32_S_CET);
        }
        if (Shstk)
            for (uint m = Arch.Machine.Msr.IA32_PL0_SSP; m <= Arch.Machine.Msr.IA32_INT_SSP_TAB; m++)
                l.Add(m);
        return l;
    }
}
