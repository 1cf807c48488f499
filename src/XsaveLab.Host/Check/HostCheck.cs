namespace XsaveLab.Host.Check;

/// <summary><c>host check</c>: boots the model with this machine's CPUID and compares it, observable by
/// observable, with the running kernel.</summary>
public static class HostCheck
{
    /// <summary>Boot log, arch_prctl permissions, AT_MINSIGSTKSZ, ptrace regsets, core-dump notes. A further
    /// group (the KVM checks) is one more <see cref="IHostCheckProvider"/> appended to this list; callers can
    /// also run any selection through <see cref="HostCheckOptions.Providers"/>.</summary>
    public static IReadOnlyList<IHostCheckProvider> DefaultProviders { get; } =
    [
        new BootLogCheck(),
        new ArchPrctlCheck(),
        new SigframeSizeCheck(),
        new SigframeCheck(),
        new SigreturnCheck(),
        new PtraceRegsetCheck(),
        new CoreDumpCheck(),
        new GcoreCheck(),
        new TaskStructSlabCheck(),
        new KvmChecks(),
    ];

    public static HostCheckReport Run(HostCheckOptions? options = null)
    {
        options ??= new HostCheckOptions();
        var ctx = HostCheckContext.Create(options, out string reason);
        if (ctx is null)
            return new HostCheckReport([Observable.Skipped("host", reason)]);
        var list = new List<Observable>();
        foreach (var p in options.Providers ?? DefaultProviders)
        {
            try
            {
                list.AddRange(p.Run(ctx));
            }
            catch (Exception e) when (e is Linux.HostProbeException or IOException or UnauthorizedAccessException)
            {
                list.Add(Observable.Skipped(p.Name, $"probe failed: {e.Message}"));
            }
        }
        return new HostCheckReport(list);
    }
}
