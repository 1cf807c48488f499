namespace XsaveLab.Kernel.Boot;

/// <summary>A booted FPU core: the configuration <c>fpu__init_system()</c> leaves behind (fpu_kernel_cfg,
/// fpu_user_cfg, guest_default_cfg, init_fpstate, XCR0/IA32_XSS/IA32_XFD values) and the boot log. Immutable;
/// many systems can exist side by side. Model CPUs are programmed from it with <see cref="InitCpu"/>.</summary>
public sealed partial class FpuSystem
{
    /// <summary><c>sizeof(union fpregs_state)</c>: capacity of the static <c>init_fpstate.regs</c>.</summary>
    public const int InitFpStateCapacity = 4096;

    /// <summary><c>sizeof(struct xregs_state)</c>: legacy area plus header.</summary>
    public const int XregsStateSize = XsaveOffsets.ExtendedStart;

    /// <summary><c>sizeof(struct fregs_state)</c>: the FNSAVE image and the ia32 fsave header of signal frames.</summary>
    public const int FregsStateSize = 112;

    /// <summary><c>sizeof(struct fxregs_state)</c>.</summary>
    public const int FxregsStateSize = XsaveOffsets.FxsaveSize;

    /// <summary>FPU_GUEST_PERM_LOCKED: software flag in bit 63 of <c>__state_perm</c>.</summary>
    public const ulong GuestPermLocked = 1UL << 63;

    private FpuSystem(CpuProfile profile, KernelVariant variant, BootOptions options, BootCaps caps)
    {
        Profile = profile;
        Variant = variant;
        Options = options;
        Caps = caps;
    }

    public CpuProfile Profile { get; }
    public KernelVariant Variant { get; }
    public BootOptions Options { get; }
    public BootCaps Caps { get; }

    /// <summary>X86_FEATURE_XSAVE after boot (the disable path clears it).</summary>
    public bool XsaveEnabled { get; private set; }

    /// <summary>The disable path (<c>fpu__init_disable_system_xstate()</c>) ran.</summary>
    public bool XsaveDisabledAtBoot { get; private set; }

    /// <summary>The xfeatures the boot had enabled when it disabled XSAVE (x87 and SSE excluded: FXSAVE keeps
    /// them); 0 when XSAVE stays on.</summary>
    public ulong LostFeatures { get; private set; }

    /// <summary>CPUID features the CPU enumerates that the kernel clears with X86_FEATURE_XSAVE when it disables
    /// XSAVE (<c>setup_clear_cpu_cap()</c> through cpuid-deps.c): /proc/cpuinfo loses them (avx, avx2, …).</summary>
    public IReadOnlyList<string> LostCpuFeatures
    {
        get
        {
            if (!XsaveDisabledAtBoot)
                return [];
            var cleared = CpuidFeatureDeps.WithDependents(["xsave"]);
            // Bits the model tracks count when boot still had them (an erratum may have cleared XSAVES first).
            return [.. CpuidFeatureDeps.Bits.Where(b => cleared.Contains(b.Name) && b.Feature != CpuFeature.OsPke
                && (b.Feature == CpuFeature.None
                    ? (Profile.Leaf(b.Bit.Leaf, b.Bit.Subleaf).Get(b.Bit.Register) >> b.Bit.Bit & 1) != 0
                    : Caps.Has(b.Feature))).Select(b => b.Name)];
        }
    }

    /// <summary>The fault that stopped the boot in <c>fpu__init_cpu_xstate()</c>, or null (<see cref="BootStop"/>).
    /// A stopped boot leaves XSAVE off and every configured feature lost.</summary>
    public BootStop? Stopped { get; private set; }

    /// <summary>The failed <c>paranoid_xstate_size_valid()</c> size check, or null.</summary>
    public XstateSizeMismatch? SizeMismatch { get; private set; }

    /// <summary>X86_FEATURE_XCOMPACTED: kernel buffers use the compacted format (XSAVEC or XSAVES).</summary>
    public bool Compacted { get; private set; }

    public FpuStateConfig KernelCfg { get; private set; } = null!;
    public FpuStateConfig UserCfg { get; private set; } = null!;
    public VcpuFpuConfig GuestDefaultCfg { get; private set; } = null!;

    /// <summary>XCR0 written by <c>fpu__init_cpu_xstate()</c> (= fpu_user_cfg.max_features), 0 if not written.</summary>
    public ulong Xcr0 { get; private set; }

    /// <summary>IA32_XSS written by <c>fpu__init_cpu_xstate()</c>, 0 if not written (no XSAVES).</summary>
    public ulong Xss { get; private set; }

    /// <summary><c>init_fpstate.xfd</c> = user max ∩ USER_DYNAMIC: IA32_XFD's boot value.</summary>
    public ulong InitXfd { get; private set; }

    /// <summary>The static key <c>__fpu_state_size_dynamic</c> (an initcall enables it iff init_fpstate.xfd ≠ 0).</summary>
    public bool DynamicStateEnabled => InitXfd != 0;

    /// <summary><c>fpu__init_system_xstate_size_legacy()</c>: 512 with FXSR, 112 without.</summary>
    public int LegacySize { get; private set; }

    /// <summary><c>init_fpstate.size</c> / <c>.xfeatures</c> and its register image (FCW 0x37F, MXCSR 0x1F80,
    /// XCOMP_BV = default features | bit 63 when compacted; all extended components in init state).</summary>
    public int InitFpStateSize { get; private set; }

    public ulong InitFpStateXfeatures { get; private set; }

    private byte[] _initRegs = [];

    public ReadOnlySpan<byte> InitFpStateRegs => _initRegs;

    /// <summary>Bytes of init_fpstate copied into a buffer on exec or kernel-thread clone
    /// (<c>init_fpstate_copy_size()</c>: the legacy area and header with XSAVE, else the default size).</summary>
    public int InitFpStateCopySize => XsaveEnabled ? XregsStateSize : KernelCfg.DefaultSize;

    /// <summary>MXCSR_MASK as the boot CPU's FXSAVE stores it (the model CPU's value for this profile); it is
    /// what <c>setup_init_fpu_buf()</c> leaves in init_fpstate.</summary>
    public uint HardwareMxcsrMask { get; private set; }

    /// <summary><c>mxcsr_feature_mask</c> (<c>fpu__init_system_mxcsr()</c>): FXSAVE's MXCSR_MASK, 0 meaning 0xFFBF.</summary>
    public uint MxcsrFeatureMask => !Caps.Fxsr ? 0 : XsaveDataRules.EffectiveMxcsrMask(HardwareMxcsrMask);

    public SaveInstruction SaveInstruction { get; private set; }

    /// <summary><c>fpu__get_fpstate_size()</c>: user max size + FP_XSTATE_MAGIC2_SIZE (XSAVE) + fsave header (ia32).</summary>
    public int FpuDefaultStateSize { get; private set; }

    /// <summary><c>max_frame_size</c> = AT_MINSIGSTKSZ (arch/x86/kernel/signal.c <c>init_sigframe_size()</c>).</summary>
    public int MaxFrameSize { get; private set; }

    private readonly List<string> _dmesg = [];
    private readonly List<string> _warnings = [];

    /// <summary>The boot log lines (no timestamps), in order.</summary>
    public IReadOnlyList<string> Dmesg => _dmesg;

    /// <summary>WARN/WARN_ONCE messages raised during boot.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    private readonly List<BootDecision> _decisions = [];

    /// <summary>Every place the boot left the default path: features cleared by an option or an erratum (with
    /// their dependents), state components dropped and why, the save instruction when it is not XSAVES.</summary>
    public IReadOnlyList<BootDecision> Decisions => [.. Caps.Cleared, .. _decisions];

    /// <summary><c>xfeatures_mask_supervisor()</c> = kernel max ∩ SUPERVISOR_SUPPORTED.</summary>
    public ulong SupervisorMask => KernelCfg.MaxFeatures & Variant.SupervisorSupported;

    /// <summary><c>xfeatures_mask_independent()</c>: independent features, minus LBR without ARCH_LBR.</summary>
    public ulong IndependentMask => Caps.Has(CpuFeature.ArchLbr) ? KernelCfg.IndependentFeatures : KernelCfg.IndependentFeatures & ~XFeatureMasks.Lbr;

    /// <summary>XFEATURE_MASK_FPSTATE of the variant.</summary>
    public ulong FpstateMask => Variant.FpstateMask;

    /// <summary>RFBM of <c>restore_fpregs_from_fpstate(fps, FPSTATE)</c>: kernel max ∩ FPSTATE.</summary>
    public ulong RestoreMask => KernelCfg.MaxFeatures & Variant.FpstateMask;

    /// <summary><c>xstate_calculate_size()</c>.</summary>
    public int CalculateSize(ulong xfeatures, bool compacted) => XStateGeometry.Size(Profile, xfeatures, compacted);

    /// <summary><c>xfeature_get_offset()</c> for this system's format.</summary>
    public int FeatureOffset(ulong xcompBv, int feature) => XStateGeometry.Offset(Profile, xcompBv, feature, Compacted);

    /// <summary><c>xstate_sizes[i]</c>.</summary>
    public int FeatureSize(int feature) => Profile.Component(feature)?.Size ?? 0;

    /// <summary>The first IA32_XSS value programmed, as above; exposed for KVM (<c>host_xss</c>).</summary>
    public ulong HostXss => Xss;

    /// <summary>A model CPU of this profile with <see cref="InitCpu"/> applied.</summary>
    public XsaveCpu CreateCpu(XsaveCpuOptions? options = null)
    {
        var cpu = new XsaveCpu(Profile, options);
        InitCpu(cpu);
        return cpu;
    }

    /// <summary><c>fpu__init_cpu_xstate()</c> on one CPU (runs on every CPU onlining): CR4.OSXSAVE, IA32_XFD =
    /// init_fpstate.xfd (before XSETBV), XCR0 = user max, IA32_XSS = supervisor | independent. Faults are
    /// returned (the kernel would oops); none occur on a consistent profile.</summary>
    public XsaveFault InitCpu(XsaveCpu cpu) => ProgramCpu(cpu, out _, out _);

    // fpu__init_cpu_xstate() in its order, naming the instruction that faulted and the value it wrote.
    private XsaveFault ProgramCpu(XsaveCpu cpu, out string instruction, out ulong value)
    {
        instruction = "";
        value = 0;
        cpu.Cpl = 0;
        if (!XsaveEnabled || KernelCfg.MaxFeatures == 0)
        {
            cpu.OsXsave = false;
            return XsaveFault.None;
        }
        cpu.OsXsave = true;
        if (Caps.Xfd)
        {
            (instruction, value) = ("WRMSR IA32_XFD", InitXfd);
            var f = cpu.Wrmsr(Msr.IA32_XFD, InitXfd);
            if (f.IsFault)
                return f;
        }
        (instruction, value) = ("XSETBV", Xcr0);
        var fx = cpu.Xsetbv(0, Xcr0);
        if (fx.IsFault)
            return fx;
        if (Caps.Xsaves)
        {
            (instruction, value) = ("WRMSR IA32_XSS", Xss);
            var fs = cpu.Wrmsr(Msr.IA32_XSS, Xss);
            if (fs.IsFault)
                return fs;
        }
        return XsaveFault.None;
    }

    /// <summary>Host default per-task buffer size (<c>fpu_kernel_cfg.default_size</c>).</summary>
    public int HostDefaultSize => KernelCfg.DefaultSize;

    internal static int PopCount(ulong v) => BitOperations.PopCount(v);
}
