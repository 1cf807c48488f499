namespace XsaveLab.Kernel.Boot;

/// <summary>The boot CPU's capability bits as the FPU code sees them (<c>boot_cpu_has()</c>).</summary>
/// <remarks>Assumptions for a CPUID dump: 64-bit kernel built with PKU, SHSTK and XFD support; a feature is
/// present when its CPUID bit is set; OSPKE equals PKU (the kernel sets CR4.PKE itself before FPU init, so
/// the dump's OSPKE, which reflects the OS that made it, is ignored). Cleared features take their
/// dependents with them (cpuid-deps.c).</remarks>
public sealed class BootCaps
{
    private readonly HashSet<CpuFeature> _present = [];

    public BootCaps(CpuProfile profile, BootOptions options)
    {
        foreach (var f in Enum.GetValues<CpuFeature>())
        {
            if (f == CpuFeature.None || f == CpuFeature.OsPke || f == CpuFeature.OsXsave)
                continue;
            bool has = f is CpuFeature.Xsave ? profile.HasLeafD : profile.Has(f);
            if (f is CpuFeature.Xsaveopt or CpuFeature.Xsavec or CpuFeature.Xsaves or CpuFeature.Xgetbv1 or CpuFeature.Xfd)
                has &= profile.HasLeafD;
            if (has)
                _present.Add(f);
        }
        if (_present.Contains(CpuFeature.Pku))
            _present.Add(CpuFeature.OsPke);

        bool erratum1386 = options.AmdErratum1386 && profile.Vendor == CpuVendor.Amd && profile.Family == 0x17;
        Erratum1386Applied = erratum1386 && _present.Contains(CpuFeature.Xsaves);
        foreach (var f in options.ClearCpuFeatures)
            Clear(f, "clearcpuid= on the kernel command line", "setup_clear_cpu_cap()");
        if (options.NoXsave)
            Clear(CpuFeature.Xsave, "noxsave on the kernel command line", "cpu_parse_early_param()");
        if (options.NoXsaves)
            Clear(CpuFeature.Xsaves, "noxsaves on the kernel command line", "cpu_parse_early_param()");
        if (options.NoXsaveopt)
            Clear(CpuFeature.Xsaveopt, "noxsaveopt on the kernel command line", "cpu_parse_early_param()");
        // b0563468eeac: "XSAVES Instruction May Fail to Save XMM Registers to the Provided State Save Area".
        if (erratum1386)
            Clear(CpuFeature.Xsaves, "AMD erratum 1386 on family 17h (XSAVES may fail to save XMM registers)",
                "fix_erratum_1386() (arch/x86/kernel/cpu/amd.c)");
    }

    /// <summary>XSAVES was cleared for AMD erratum 1386.</summary>
    public bool Erratum1386Applied { get; }

    public bool Has(CpuFeature feature) => feature == CpuFeature.None || _present.Contains(feature);

    public bool Fpu => Has(CpuFeature.Fpu);
    public bool Fxsr => Has(CpuFeature.Fxsr);
    public bool Xsave => Has(CpuFeature.Xsave);
    public bool Xsaveopt => Has(CpuFeature.Xsaveopt);
    public bool Xsavec => Has(CpuFeature.Xsavec);
    public bool Xsaves => Has(CpuFeature.Xsaves);
    public bool Xfd => Has(CpuFeature.Xfd);

    private readonly List<BootDecision> _cleared = [];

    /// <summary>Features the CPU has that a boot option or an erratum cleared, each with its dependents.</summary>
    public IReadOnlyList<BootDecision> Cleared => _cleared;

    // do_clear_cpu_cap(): the feature and, transitively, every feature depending on it (CpuidFeatureDeps).
    private void Clear(CpuFeature feature, string reason, string function)
    {
        if (_present.Remove(feature))
            _cleared.Add(new BootDecision(CpuFeatureNames.KernelName(feature), "cleared", reason, function, Dropped: true));
        if (CpuidFeatureDeps.NameOf(feature) is { } name)
            foreach (var f in CpuidFeatureDeps.Features(CpuidFeatureDeps.WithDependents([name])))
                if (_present.Remove(f) && f != CpuFeature.OsPke)
                    _cleared.Add(new BootDecision(CpuFeatureNames.KernelName(f), "cleared",
                        $"depends on X86_FEATURE_{CpuFeatureNames.KernelName(feature)}", "do_clear_cpu_cap() (arch/x86/kernel/cpu/cpuid-deps.c)", Dropped: true));
    }
}
