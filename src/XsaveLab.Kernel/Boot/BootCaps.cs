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

        var clear = new List<CpuFeature>(options.ClearCpuFeatures);
        if (options.NoXsave)
            clear.Add(CpuFeature.Xsave);
        if (options.NoXsaves)
            clear.Add(CpuFeature.Xsaves);
        if (options.NoXsaveopt)
            clear.Add(CpuFeature.Xsaveopt);
        if (options.AmdErratum1386 && profile.Vendor == CpuVendor.Amd && profile.Family == 0x17)
        {
            clear.Add(CpuFeature.Xsaves);
            Erratum1386Applied = _present.Contains(CpuFeature.Xsaves);
        }
        foreach (var f in clear)
            Clear(f);
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

    // do_clear_cpu_cap(): the feature and, transitively, every feature depending on it (CpuidFeatureDeps).
    private void Clear(CpuFeature feature)
    {
        _present.Remove(feature);
        if (CpuidFeatureDeps.NameOf(feature) is { } name)
            foreach (var f in CpuidFeatureDeps.Features(CpuidFeatureDeps.WithDependents([name])))
                _present.Remove(f);
    }
}
