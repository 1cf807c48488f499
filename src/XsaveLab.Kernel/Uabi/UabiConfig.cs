namespace XsaveLab.Kernel.Uabi;

/// <summary>Kernel build options that change user-visible sizes.</summary>
/// <param name="Ia32Emulation">CONFIG_IA32_EMULATION (or CONFIG_X86_32): room for the 112-byte fsave header is
/// reserved in every frame and MAX_FRAME_SIGINFO_UCTXT_SIZE is sizeof(struct sigframe_ia32).</param>
/// <param name="UserShadowStack">CONFIG_X86_USER_SHADOW_STACK: the x86-64 regset view has NT_X86_SHSTK.</param>
public sealed record KernelBuildOptions(bool Ia32Emulation = true, bool UserShadowStack = false)
{
    public static readonly KernelBuildOptions Default = new();
}

/// <summary>Everything the UABI conversions read from the booted FPU core: the user and kernel feature/size
/// configuration, the component geometry, <c>mxcsr_feature_mask</c>, the default fpstate's shape and the
/// init_fpstate image — the last two exactly as the booted <see cref="FpuSystem"/> built them for its variant.
/// An immutable value; build it from a boot (<see cref="FromSystem"/>, <see cref="Derive"/>), optionally with
/// other user/kernel feature sets.</summary>
/// <remarks>Fields mirror <c>fpu_user_cfg</c>, <c>fpu_kernel_cfg</c>, <c>init_fpstate</c> and
/// <c>mxcsr_feature_mask</c> (arch/x86/kernel/fpu/init.c, xstate.c).</remarks>
public sealed class UabiConfig
{
    private readonly int[] _uncompactOrder;

    /// <summary>The configuration of <paramref name="system"/> with the given user/kernel feature sets (the
    /// booted ones, or others to describe a related machine); init_fpstate and the default fpstate's shape are
    /// the system's. <paramref name="hardwareMxcsrMask"/>, when given, is what FXSAVE stores as MXCSR_MASK on the
    /// machine described (a live host), which <c>setup_init_fpu_buf()</c> leaves in init_fpstate.</summary>
    public UabiConfig(FpuSystem system, ulong userMaxFeatures, ulong userDefaultFeatures, ulong kernelMaxFeatures,
        uint mxcsrFeatureMask, uint? hardwareMxcsrMask = null, KernelBuildOptions? build = null, int? userMaxSize = null)
    {
        var cpu = system.Profile;
        Cpu = cpu;
        UserMaxFeatures = userMaxFeatures;
        UserDefaultFeatures = userDefaultFeatures;
        KernelMaxFeatures = kernelMaxFeatures;
        Compacted = system.Compacted;
        MxcsrFeatureMask = mxcsrFeatureMask;
        Build = build ?? KernelBuildOptions.Default;
        UseXsave = cpu.HasXsave && userMaxFeatures != 0;
        UserMaxSize = userMaxSize ?? (UseXsave ? XStateGeometry.Size(cpu, userMaxFeatures, false) : XsaveOffsets.FxsaveSize);
        UserDefaultSize = UseXsave ? XStateGeometry.Size(cpu, userDefaultFeatures, false) : XsaveOffsets.FxsaveSize;
        OsPke = (userMaxFeatures & XFeatureMasks.Pkru) != 0;
        WritesXsaveLayoutNote = system.Variant.WritesXsaveLayoutNote;

        // xfeature_uncompact_order[]: enabled user features sorted by standard offset (setup_xstate_cache()).
        _uncompactOrder = Enumerable.Range(2, 61)
            .Where(i => (kernelMaxFeatures >> i & 1) != 0 && cpu.Component(i) is { StandardOffset: not null })
            .OrderBy(i => cpu.Component(i)!.Value.StandardOffset)
            .ToArray();

        InitFpstate = system.InitFpStateRegs.ToArray();
        if (hardwareMxcsrMask is { } mask && system.Caps.Fxsr)
            BinaryPrimitives.WriteUInt32LittleEndian(InitFpstate.AsSpan(XsaveOffsets.MxcsrMask), mask);
        InitFpstateCopySize = system.InitFpStateCopySize;
        DefaultFpstate = FpStateShape.Reset(system, guest: false) with { UserXfeatures = userDefaultFeatures, UserSize = UserDefaultSize };
    }

    public CpuProfile Cpu { get; }

    /// <summary>The kernel writes NT_X86_XSAVE_LAYOUT into core files (<see cref="KernelVariant.WritesXsaveLayoutNote"/>).</summary>
    public bool WritesXsaveLayoutNote { get; }
    public KernelBuildOptions Build { get; }

    /// <summary>X86_FEATURE_USER_SHSTK as the regset paths test it: CONFIG_X86_USER_SHADOW_STACK and CET_U in
    /// fpu_kernel_cfg.max_features (a 6.6+ kernel on a CPU with SHSTK and XSAVES).</summary>
    public bool UserShstk => Build.UserShadowStack && (KernelMaxFeatures & XFeatureMasks.CetUser) != 0;

    /// <summary>TASK_SIZE_MAX: <c>(1 &lt;&lt; __VIRTUAL_MASK_SHIFT) - PAGE_SIZE</c>, the shift 56 with 5-level
    /// paging (LA57) and 47 without.</summary>
    public ulong TaskSizeMax => (1UL << (XsaveCpu.LinearAddressBitsOf(Cpu) == 57 ? 56 : 47)) - (ulong)Memory.SlubRules.PageSize;

    /// <summary>fpu_user_cfg.max_features (≈ XCR0).</summary>
    public ulong UserMaxFeatures { get; }

    /// <summary>fpu_user_cfg.default_features (no dynamic features).</summary>
    public ulong UserDefaultFeatures { get; }

    /// <summary>fpu_user_cfg.max_size: standard-format size of <see cref="UserMaxFeatures"/> (= CPUID(0xD,0).EBX
    /// once XCR0 is written).</summary>
    public int UserMaxSize { get; }

    public int UserDefaultSize { get; }

    /// <summary>fpu_kernel_cfg.max_features (user + supervisor, incl. guest-only CET_KERNEL).</summary>
    public ulong KernelMaxFeatures { get; }

    /// <summary>X86_FEATURE_XCOMPACTED: kernel buffers are in compacted form.</summary>
    public bool Compacted { get; }

    /// <summary>use_xsave(): the legacy paths (FXSAVE-only CPUs) are taken otherwise.</summary>
    public bool UseXsave { get; }

    /// <summary>X86_FEATURE_OSPKE: PKRU is enabled in XCR0 and CR4.PKE.</summary>
    public bool OsPke { get; }

    /// <summary>mxcsr_feature_mask: MXCSR bits user space may set (from FXSAVE's MXCSR_MASK; 0 ⇒ 0xFFBF).</summary>
    public uint MxcsrFeatureMask { get; }

    /// <summary>init_fpstate.regs in kernel format as <see cref="FpuSystem"/> built it (legacy area from FXSAVE,
    /// header with XCOMP_BV = default features | bit 63 when compacted, zero extended state).</summary>
    public byte[] InitFpstate { get; }

    /// <summary><c>init_fpstate_copy_size()</c>: what <c>fpu_reset_fpstate_regs()</c> copies into a task's buffer.</summary>
    public int InitFpstateCopySize { get; }

    /// <summary>The shape <c>__fpstate_reset()</c> gives a task's fpstate (kernel default size and features,
    /// user defaults, init_fpstate.xfd).</summary>
    public FpStateShape DefaultFpstate { get; }

    /// <summary>A task's default fpstate after <c>fpstate_reset()</c> + <c>fpu_reset_fpstate_regs()</c>: the
    /// default shape holding init_fpstate's registers (its XCOMP_BV is the default features | bit 63 when
    /// compacted). The buffer holds at least the legacy area and header.</summary>
    public FpState NewDefaultFpstate()
    {
        var fps = FpState.Detached(DefaultFpstate, XsaveOffsets.ExtendedStart);
        FpState.ResetRegs(fps.Buffer, InitFpstate, InitFpstateCopySize, fps.Xfeatures, Compacted);
        return fps;
    }

    /// <summary>xfeatures_mask_supervisor(): supervisor features the kernel manages.</summary>
    public ulong SupervisorFeatures => KernelMaxFeatures & SupervisorSupported;

    /// <summary>XFEATURE_MASK_SUPERVISOR_SUPPORTED (6.17+: PASID | CET_USER | CET_KERNEL).</summary>
    public const ulong SupervisorSupported = XFeatureMasks.Pasid | XFeatureMasks.CetUser | XFeatureMasks.CetKernel;

    /// <summary>XFEATURE_MASK_SUPERVISOR_ALL = supported | independent (LBR) | unsupported (PT).</summary>
    public const ulong SupervisorAll = SupervisorSupported | XFeatureMasks.Lbr | XFeatureMasks.Pt;

    /// <summary>xstate_fx_sw_bytes: the 48 bytes written at offset 464 of ptrace and core-dump images; the first
    /// u64 is fpu_user_cfg.max_features (update_regset_xstate_info(), USER_XSTATE_XCR0_WORD = 0).</summary>
    public void WriteXstateFxSwBytes(Span<byte> sw)
    {
        sw[..XsaveOffsets.SwReservedSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(sw, UserMaxFeatures);
    }

    /// <summary>xfeature_uncompact_order[]: the enabled extended features with a standard offset, sorted by it.
    /// Allocation-free for hot paths (filter by mask while iterating).</summary>
    public ReadOnlySpan<int> UncompactOrder => _uncompactOrder;

    /// <summary>Extended user features in standard-offset order (for_each_extended_xfeature_in_order).</summary>
    public IEnumerable<int> ExtendedInOrder(ulong mask)
    {
        foreach (int i in _uncompactOrder)
            if ((mask >> i & 1) != 0)
                yield return i;
    }

    public int Size(int feature) => Cpu.Component(feature)?.Size ?? 0;

    public int StandardOffset(int feature) => Cpu.Component(feature)?.StandardOffset ?? -1;

    /// <summary>__raw_xsave_addr(): where component <paramref name="feature"/> sits in a kernel buffer with
    /// the given XCOMP_BV.</summary>
    public int KernelOffset(ulong xcompBv, int feature) => XStateGeometry.Offset(Cpu, xcompBv, feature, Compacted);

    /// <summary>Boots the FPU core on <paramref name="cpu"/> (<see cref="FpuSystem.Boot"/>, default kernel
    /// variant) and takes its configuration. <paramref name="hardwareMxcsrMask"/> is FXSAVE's MXCSR_MASK (not in CPUID).</summary>
    public static UabiConfig Derive(CpuProfile cpu, uint hardwareMxcsrMask = 0x0000FFFF, KernelBuildOptions? build = null)
    {
        build ??= KernelBuildOptions.Default;
        var sys = FpuSystem.Boot(cpu, options: BootOptions.Default with { Ia32Emulation = build.Ia32Emulation });
        return FromSystem(sys, hardwareMxcsrMask, build.UserShadowStack);
    }

    /// <summary>The configuration of a booted <see cref="FpuSystem"/> (a thin adapter: user/kernel configs,
    /// format, build options). <paramref name="hardwareMxcsrMask"/> is what FXSAVE reports as MXCSR_MASK on the
    /// modelled CPU (CPUID does not tell); mxcsr_feature_mask follows from it.</summary>
    public static UabiConfig FromSystem(FpuSystem sys, uint hardwareMxcsrMask = 0x0000FFFF, bool userShadowStack = false)
    {
        var build = new KernelBuildOptions(sys.Options.Ia32Emulation, userShadowStack);
        if (!sys.XsaveEnabled)
            return new UabiConfig(sys, 0, 0, 0, MaskFromFxsave(hardwareMxcsrMask), hardwareMxcsrMask, build, sys.UserCfg.MaxSize);
        return new UabiConfig(sys, sys.UserCfg.MaxFeatures, sys.UserCfg.DefaultFeatures, sys.KernelCfg.MaxFeatures,
            MaskFromFxsave(hardwareMxcsrMask), hardwareMxcsrMask, build, sys.UserCfg.MaxSize);
    }

    /// <summary>fpu__init_system_mxcsr(): an FXSAVE MXCSR_MASK of 0 means the default 0x0000FFBF.</summary>
    public static uint MaskFromFxsave(uint fxsaveMask) => XsaveDataRules.EffectiveMxcsrMask(fxsaveMask);
}
