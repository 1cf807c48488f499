namespace XsaveLab.Host.Check;

/// <summary>What every check on a traced child with seeded registers shares: whether one can run here, and
/// spawning it, running the check's comparisons and killing it.</summary>
internal static class TracedProbe
{
    /// <summary>Null when this host can start a probe child that loads XSAVE state; else why not.</summary>
    public static string? CannotRun(HostCheckContext ctx) =>
        ctx.Launcher is null ? ctx.LauncherUnavailableReason : !ctx.Cpu.HasXsave ? "the CPU has no XSAVE" : null;

    /// <summary>The observations of a check on one traced child, or one skipped observation named
    /// <paramref name="name"/> when no such child can run here or be traced. Lazy: the child starts when the
    /// observations are enumerated.</summary>
    public static IEnumerable<Observable> Run(HostCheckContext ctx, string name, ulong seed, Func<TracedChild, List<Observable>> checks)
    {
        if (CannotRun(ctx) is { } why)
        {
            yield return Observable.Skipped(name, why);
            yield break;
        }
        foreach (var o in OnLoadedChild(ctx, seed, name, checks).Observations)
            yield return o;
    }

    /// <summary><see cref="Run"/> for checks that start from the child's NT_X86_XSTATE image (PTRACE_GETREGSET)
    /// and the UABI configuration it implies: MXCSR_MASK is not in CPUID, so it is taken from the image. When the
    /// GET fails the only observation is a skipped one named <paramref name="getName"/>.</summary>
    public static IEnumerable<Observable> RunOnXstate(HostCheckContext ctx, string name, string getName, ulong seed,
        Func<TracedChild, LiveRegsetResult, UabiConfig, List<Observable>> checks) =>
        Run(ctx, name, seed, child =>
        {
            var get = child.GetRegset(NoteType.NtX86Xstate);
            return get.Ok
                ? checks(child, get, ctx.Uabi(ChildModel.HardwareMxcsrMask(get.Data)))
                : [Observable.Skipped(getName, $"PTRACE_GETREGSET failed: {get}")];
        });

    /// <summary>Starts a traced child whose registers hold <see cref="SeededXstateImage"/> of <paramref name="seed"/>,
    /// runs <paramref name="checks"/> on it and kills it. A child that cannot be traced gives one skipped observation
    /// named <paramref name="name"/> and <c>Traced</c> false.</summary>
    public static (List<Observable> Observations, bool Traced) OnLoadedChild(HostCheckContext ctx, ulong seed, string name,
        Func<TracedChild, List<Observable>> checks)
    {
        TracedChild child;
        try
        {
            child = TracedChild.SpawnLoadedRegisters(ctx.Launcher ?? throw new InvalidOperationException("no probe launcher"), seed);
        }
        catch (HostProbeException e)
        {
            return ([Observable.Skipped(name, $"cannot trace a child here: {e.Message}")], false);
        }
        using (child)
            return (checks(child), true);
    }
}
