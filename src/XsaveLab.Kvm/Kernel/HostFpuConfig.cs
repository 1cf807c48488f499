using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Features;
using XsaveLab.Arch.Layout;

namespace XsaveLab.Kvm.Kernel;

/// <summary>The boot-time FPU configuration of the host kernel as far as KVM consumes it:
/// <c>fpu_kernel_cfg</c>, <c>fpu_user_cfg</c>, <c>guest_default_cfg</c>, XCR0 and IA32_XSS.</summary>
/// <remarks>Follows <c>fpu__init_system_xstate()</c> (linux-fpu.md §2.3) for a 64-bit kernel with PKU, SHSTK and
/// XFD support, OSPKE taken to equal PKU. This is the slice of the kernel model KVM needs; the full boot
/// (log lines, paranoia checks) belongs to XsaveLab.Kernel's <c>FpuSystem</c>.</remarks>
public sealed record HostFpuConfig(
    CpuProfile Cpu,
    KernelVariant Variant,
    bool XsaveEnabled,
    bool Compacted,
    ulong KernelMaxFeatures,
    int KernelMaxSize,
    ulong KernelDefaultFeatures,
    int KernelDefaultSize,
    ulong UserMaxFeatures,
    int UserMaxSize,
    ulong UserDefaultFeatures,
    int UserDefaultSize,
    ulong GuestDefaultFeatures,
    int GuestDefaultSize,
    ulong IndependentFeatures,
    string? DisabledReason)
{
    /// <summary>XFEATURE_MASK_GUEST_SUPERVISOR (6.17+): CET_KERNEL; 0 where the variant has no such notion.</summary>
    public ulong GuestSupervisorMask => Variant.CetKernelSupported ? XFeatureMasks.CetKernel : 0;

    /// <summary>XFEATURE_MASK_SUPERVISOR_SUPPORTED of the variant.</summary>
    public ulong SupervisorSupported => XFeatureMasks.Pasid | XFeatureMasks.CetUser | GuestSupervisorMask;

    /// <summary>XFEATURE_MASK_FPSTATE = USER_RESTORE | SUPERVISOR_SUPPORTED: the RFBM of fpstate restores.</summary>
    public ulong FpstateMask => XFeatureMasks.UserRestore | SupervisorSupported;

    /// <summary>XCR0 the kernel programs: <c>fpu_user_cfg.max_features</c>.</summary>
    public ulong Xcr0 => XsaveEnabled ? UserMaxFeatures : 0;

    /// <summary>IA32_XSS the kernel programs: <c>xfeatures_mask_supervisor() | xfeatures_mask_independent()</c>.</summary>
    public ulong Xss => XsaveEnabled && Cpu.HasXsaves ? (KernelMaxFeatures & SupervisorSupported) | IndependentFeatures : 0;

    /// <summary><c>init_fpstate.xfd</c>: tile data disabled by default when AMX and XFD are usable.</summary>
    public ulong InitXfd => UserMaxFeatures & XFeatureMasks.UserDynamic;

    /// <summary>The <c>sizeof(struct kvm_xsave)</c> the guest UABI starts at.</summary>
    public const int KvmXsaveSize = 4096;

    public static HostFpuConfig Boot(CpuProfile cpu, KernelVariant variant)
    {
        const int legacy = 512;
        if (!cpu.HasLeafD)
            return Disabled(cpu, variant, "no XSAVE: x87 FPU will use FXSAVE");

        ulong max = cpu.SupportedXcr0 | cpu.SupportedXss;
        if ((max & XFeatureMasks.FpSse) != XFeatureMasks.FpSse)
            return Disabled(cpu, variant, "FP/SSE not present amongst the CPU's xstate features");
        if ((max & XFeatureMasks.Apx) != 0 && (max & XFeatureMasks.Mpx) != 0)
            return Disabled(cpu, variant, "Both APX/MPX present in the CPU's xstate features");

        ulong independent = max & XFeatureMasks.Independent;
        if (!cpu.Has(CpuFeature.ArchLbr))
            independent &= ~XFeatureMasks.Lbr;

        for (int i = 0; i < 64; i++)
        {
            ulong bit = 1UL << i;
            if ((max & bit) == 0 || i == 0)
                continue;
            if (i >= XFeatureTable.Count) { max &= ~bit; continue; }
            var info = XFeatureTable.Get(i);
            bool gated = info.KernelSupported && (i != 12 || variant.CetKernelSupported);
            var gate = info.Gate == CpuFeature.OsPke ? CpuFeature.Pku : info.Gate;
            if (!gated || !cpu.Has(gate))
                max &= ~bit;
        }
        if (!cpu.HasXfd)
            max &= ~XFeatureMasks.UserDynamic;
        ulong supervisorSupported = XFeatureMasks.Pasid | XFeatureMasks.CetUser | (variant.CetKernelSupported ? XFeatureMasks.CetKernel : 0);
        max &= cpu.HasXsaves ? XFeatureMasks.UserSupported | supervisorSupported : XFeatureMasks.UserSupported;

        ulong userMax = max & XFeatureMasks.UserSupported;
        ulong guestSup = variant.CetKernelSupported ? XFeatureMasks.CetKernel : 0;
        ulong hostDefaultMask = variant.CetInEveryTask ? ~XFeatureMasks.UserDynamic : ~(XFeatureMasks.UserDynamic | guestSup);
        ulong kernelDefault = max & hostDefaultMask;
        ulong userDefault = userMax & hostDefaultMask;
        ulong guestDefault = variant.GuestDefaultsDiffer ? max & ~XFeatureMasks.UserDynamic : kernelDefault;

        bool compacted = cpu.HasXsavec || cpu.HasXsaves;
        int Calc(ulong f, bool c) => XStateGeometry.Size(cpu, f, c);
        return new HostFpuConfig(cpu, variant, true, compacted,
            max, Calc(max, compacted), kernelDefault, Calc(kernelDefault, compacted),
            userMax, Calc(userMax, false), userDefault, Calc(userDefault, false),
            guestDefault, Calc(guestDefault, compacted), independent, null);

        static HostFpuConfig Disabled(CpuProfile cpu, KernelVariant variant, string why) =>
            new(cpu, variant, false, false, 0, legacy, 0, legacy, 0, legacy, 0, legacy, 0, legacy, 0, why);
    }

    /// <summary><c>xstate_calculate_size()</c> for this host.</summary>
    public int CalculateSize(ulong xfeatures, bool compacted) =>
        XsaveEnabled ? XStateGeometry.Size(Cpu, xfeatures, compacted) : 512;
}
