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

    /// <summary>The fault that stopped the boot (<see cref="FpuSystem.Stopped"/>), or null.</summary>
    public BootStop? Stopped { get; init; }

    public static BootReport From(FpuSystem sys) => new(
        sys.Variant.Name, sys.Profile.Name, sys.Dmesg, sys.KernelCfg, sys.UserCfg, sys.GuestDefaultCfg,
        sys.Xcr0, sys.Xss, sys.InitXfd, sys.XsaveEnabled, sys.Compacted, sys.SaveInstruction, sys.MaxFrameSize, sys.Warnings)
    {
        Decisions = sys.Decisions,
        GuestFpstateSize = sys.Variant.GuestState == Variants.GuestStateSource.GuestDefaults ? sys.GuestDefaultCfg.Size : sys.KernelCfg.DefaultSize,
        HasGuestDefaultCfg = sys.Variant.HasGuestDefaultCfg,
        AsGuest = sys.Options.CpuidAsGiven,
        LostFeatures = sys.LostFeatures,
        LostCpuFeatures = sys.LostCpuFeatures,
        SizeMismatch = sys.SizeMismatch,
        KnownMistake = sys.SizeMismatch?.KnownMistake(sys.Profile),
        Stopped = sys.Stopped,
    };
}
