namespace XsaveLab.Kernel.Boot;

/// <summary>A render-independent summary of a boot: the log and the three configurations.</summary>
public sealed record BootReport(
    string Kernel,
    string Cpu,
    IReadOnlyList<string> Dmesg,
    FpuStateConfig KernelCfg,
    FpuStateConfig UserCfg,
    VcpuFpuConfig GuestDefaultCfg,
    ulong Xcr0,
    ulong Xss,
    ulong InitXfd,
    bool XsaveEnabled,
    bool Compacted,
    SaveInstruction SaveInstruction,
    int MaxFrameSize,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Where the boot left the default path (<see cref="FpuSystem.Decisions"/>).</summary>
    public IReadOnlyList<BootDecision> Decisions { get; init; } = [];

    /// <summary>Per-task default buffer (<c>fpu_kernel_cfg.default_size</c>).</summary>
    public int HostDefaultSize => KernelCfg.DefaultSize;

    /// <summary>A new vCPU's guest fpstate size under this kernel.</summary>
    public int GuestFpstateSize { get; init; }

    /// <summary>The kernel has <c>guest_default_cfg</c> (6.17 and the variants built on it that size guest
    /// fpstates from it); before 7bc4ed75f2d6 there is no such struct to print.</summary>
    public bool HasGuestDefaultCfg { get; init; }

    /// <summary>CPUID 0xD EBX was read as a hypervisor presents it (<see cref="BootOptions.CpuidAsGiven"/>).</summary>
    public bool AsGuest { get; init; }

    /// <summary>xfeatures lost because XSAVE was disabled (<see cref="FpuSystem.LostFeatures"/>).</summary>
    public ulong LostFeatures { get; init; }

    /// <summary>CPUID features cleared with XSAVE (<see cref="FpuSystem.LostCpuFeatures"/>).</summary>
    public IReadOnlyList<string> LostCpuFeatures { get; init; } = [];

    /// <summary>The failed size check and the known mistake its reported number matches, if any.</summary>
    public XstateSizeMismatch? SizeMismatch { get; init; }

    public string? KnownMistake { get; init; }

    /// <summary>For a variant other than the landed one: what it changes in this CPU's boot (null for the landed one).</summary>
    public VariantEffectOnCpu? Effect { get; init; }

    /// <summary>The <c>boot</c> question: <paramref name="cpu"/> booted under <paramref name="variant"/>, and for a variant
    /// other than the landed one also under <see cref="KernelVariants.Default"/> to tell what the variant changes here.</summary>
    public static BootReport Create(CpuProfile cpu, KernelVariant variant, BootOptions? options = null)
    {
        var report = From(FpuSystem.Boot(cpu, variant, options));
        if (variant.Name == KernelVariants.DefaultName)
            return report;
        var landed = From(FpuSystem.Boot(cpu, KernelVariants.Default, options));
        return report with { Effect = VariantEffectOnCpu.From(variant, Observe(report, landed)) };
    }

    /// <summary>The results of two boots of one CPU that differ: boot log lines, the host state (XCR0, IA32_XSS,
    /// <c>fpu_kernel_cfg</c>, <c>fpu_user_cfg</c>) and the guest state (a new vCPU's fpstate, <c>guest_default_cfg</c>).</summary>
    public static IReadOnlyList<ObservedChange> Observe(BootReport chosen, BootReport landed)
    {
        var o = new List<ObservedChange>();
        VariantEffectOnCpu.CompareLines(o, VariantEffect.BootLog, "boot log line", chosen.Dmesg, landed.Dmesg);
        VariantEffectOnCpu.Compare(o, VariantEffect.BootLog, "boot stopped", chosen.Stopped?.Summary ?? "no", landed.Stopped?.Summary ?? "no");
        VariantEffectOnCpu.CompareMask(o, VariantEffect.HostState, "XCR0", chosen.Xcr0, landed.Xcr0);
        VariantEffectOnCpu.CompareMask(o, VariantEffect.HostState, "IA32_XSS", chosen.Xss, landed.Xss);
        VariantEffectOnCpu.CompareMask(o, VariantEffect.HostState, "fpu_kernel_cfg.default_features", chosen.KernelCfg.DefaultFeatures, landed.KernelCfg.DefaultFeatures);
        VariantEffectOnCpu.CompareBytes(o, VariantEffect.HostState, "per-task fpstate", chosen.KernelCfg.DefaultSize, landed.KernelCfg.DefaultSize);
        VariantEffectOnCpu.CompareBytes(o, VariantEffect.HostState, "fpu_kernel_cfg.max_size", chosen.KernelCfg.MaxSize, landed.KernelCfg.MaxSize);
        VariantEffectOnCpu.CompareBytes(o, VariantEffect.HostState, "fpu_user_cfg.max_size", chosen.UserCfg.MaxSize, landed.UserCfg.MaxSize);
        VariantEffectOnCpu.CompareMask(o, VariantEffect.GuestState, "new vCPU fpstate features", chosen.GuestFeatures, landed.GuestFeatures);
        VariantEffectOnCpu.CompareBytes(o, VariantEffect.GuestState, "new vCPU fpstate", chosen.GuestFpstateSize, landed.GuestFpstateSize);
        return o;
    }

    /// <summary>The features of a new vCPU's guest fpstate under this kernel.</summary>
    public ulong GuestFeatures { get; init; }

    /// <summary>The fault that stopped the boot (<see cref="FpuSystem.Stopped"/>), or null.</summary>
    public BootStop? Stopped { get; init; }

    public static BootReport From(FpuSystem sys) => new(
        sys.Variant.Name, sys.Profile.Name, sys.Dmesg, sys.KernelCfg, sys.UserCfg, sys.GuestDefaultCfg,
        sys.Xcr0, sys.Xss, sys.InitXfd, sys.XsaveEnabled, sys.Compacted, sys.SaveInstruction, sys.MaxFrameSize, sys.Warnings)
    {
        Decisions = sys.Decisions,
        GuestFpstateSize = sys.Variant.GuestState == Variants.GuestStateSource.GuestDefaults ? sys.GuestDefaultCfg.Size : sys.KernelCfg.DefaultSize,
        GuestFeatures = sys.Variant.GuestState == Variants.GuestStateSource.GuestDefaults ? sys.GuestDefaultCfg.Features : sys.KernelCfg.DefaultFeatures,
        HasGuestDefaultCfg = sys.Variant.HasGuestDefaultCfg,
        AsGuest = sys.Options.CpuidAsGiven,
        LostFeatures = sys.LostFeatures,
        LostCpuFeatures = sys.LostCpuFeatures,
        SizeMismatch = sys.SizeMismatch,
        KnownMistake = sys.SizeMismatch?.KnownMistake(sys.Profile),
        Stopped = sys.Stopped,
    };
}
