namespace XsaveLab.Kernel.Boot;

/// <summary>Kernel command-line style choices for a boot.</summary>
public sealed record BootOptions
{
    /// <summary><c>noxsave</c>: clear X86_FEATURE_XSAVE (and, through cpuid-deps.c, everything depending on it).</summary>
    public bool NoXsave { get; init; }

    /// <summary><c>noxsaves</c>: clear X86_FEATURE_XSAVES (drops XFD, SHSTK and ENQCMD with it).</summary>
    public bool NoXsaves { get; init; }

    /// <summary><c>noxsaveopt</c>.</summary>
    public bool NoXsaveopt { get; init; }

    /// <summary><c>clearcpuid=</c>: features cleared with their dependents (arch/x86/kernel/cpu/cpuid-deps.c).</summary>
    public IReadOnlyList<CpuFeature> ClearCpuFeatures { get; init; } = [];

    /// <summary>Apply AMD erratum 1386 (family 0x17 clears XSAVES, amd.c <c>fix_erratum_1386()</c>). Dumps
    /// carry no microcode revision, so the unfixed microcode is assumed.</summary>
    public bool AmdErratum1386 { get; init; } = true;

    /// <summary>CONFIG_IA32_EMULATION: signal frames are sized for the largest (ia32) frame.</summary>
    public bool Ia32Emulation { get; init; } = true;

    /// <summary>CONFIG_STRICT_SIGALTSTACK_SIZE / <c>strict_sas_size</c>.</summary>
    public bool StrictSigaltstackSize { get; init; }

    /// <summary>CONFIG_X86_USER_SHADOW_STACK (6.6+): with a CPU that has SHSTK and CET_U in IA32_XSS, tasks may
    /// enable user shadow stacks (X86_FEATURE_USER_SHSTK) and the x86-64 regset view has NT_X86_SHSTK.</summary>
    public bool UserShadowStack { get; init; }

    /// <summary>CONFIG_X86_64. The model is a 64-bit kernel; false only changes the arch_prctl answers.</summary>
    public bool X86_64 { get; init; } = true;

    /// <summary>Logical CPUs a LinuxKernel created from this boot gets by default.</summary>
    public int CpuCount { get; init; } = 4;

    /// <summary>Read CPUID as a hypervisor presents it to a guest: EBX of 0xD.0 and 0xD.1 are taken as given
    /// instead of being recomputed for the XCR0/IA32_XSS the kernel programs (as hardware does after XSETBV).
    /// A VMM may return fixed values there; the kernel then compares its own sum with them.</summary>
    public bool CpuidAsGiven { get; init; }

    public static BootOptions Default { get; } = new();
}
