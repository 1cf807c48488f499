namespace XsaveLab.Host.Check;

/// <summary>ARCH_GET_XCOMP_SUPP/PERM/GUEST_PERM of this process, and ARCH_REQ_XCOMP_PERM /
/// ARCH_REQ_XCOMP_GUEST_PERM for every feature number 0..63, issued in order by a child process (a
/// successful request cannot be undone, so this process never issues one).</summary>
public sealed class ArchPrctlCheck : IHostCheckProvider
{
    public string Name => "arch_prctl";

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        // A fresh process of the model kernel booted with this CPU: the permissions a process starts with.
        var kernel = new LinuxKernel(ctx.System, cpuCount: 1);
        var self = kernel.SpawnProcess("host check");
        yield return Get("ARCH_GET_XCOMP_SUPP", kernel.ArchPrctlGet(self, ArchPrctl.GetXcompSupp), LiveArchPrctl.GetSupported(), "fpu_user_cfg.max_features | legacy_features");
        yield return Get("ARCH_GET_XCOMP_PERM", kernel.ArchPrctlGet(self, ArchPrctl.GetXcompPerm), LiveArchPrctl.GetPermitted(), "leader's perm.__state_perm & USER_SUPPORTED");
        yield return Get("ARCH_GET_XCOMP_GUEST_PERM", kernel.ArchPrctlGet(self, ArchPrctl.GetXcompGuestPerm), LiveArchPrctl.GetGuestPermitted(), "leader's guest_perm.__state_perm & USER_SUPPORTED");

        if (ctx.Launcher is null)
        {
            yield return Observable.Skipped("ARCH_REQ_XCOMP_PERM 0..63", ctx.LauncherUnavailableReason);
            yield return Observable.Skipped("ARCH_REQ_XCOMP_GUEST_PERM 0..63", ctx.LauncherUnavailableReason);
            yield break;
        }
        foreach (var (option, name, isGuest) in new[]
                 {
                     (ArchPrctl.ReqXcompPerm, "ARCH_REQ_XCOMP_PERM", false),
                     (ArchPrctl.ReqXcompGuestPerm, "ARCH_REQ_XCOMP_GUEST_PERM", true),
                 })
        {
            // The child issues every request in order; the model's child does the same, so a success (AMX)
            // changes the later answers identically on both sides.
            var report = XcompRequestProbe.Run(ctx.Launcher, option, Enumerable.Range(0, 64).Select(i => (long)i));
            var child = kernel.SpawnProcess(name);
            foreach (var (feature, result) in report.Requests)
            {
                long r = kernel.ArchPrctlRequest(child, (int)feature, isGuest);
                yield return Observable.Compare($"{name}({feature})", Render(r), Render(result.Ret, result.Errno),
                    "xstate_request_perm(): idx >= XFEATURE_MAX ⇒ -EINVAL; only XTILE_DATA is requestable; not in user max ⇒ -EOPNOTSUPP");
            }
            ulong after = kernel.ArchPrctlGet(child, isGuest ? ArchPrctl.GetXcompGuestPerm : ArchPrctl.GetXcompPerm);
            yield return Observable.Compare($"{name}: GET after the requests", $"0x{after:x}",
                report.After.Ok ? $"0x{report.After.Value:x}" : Render(report.After.Ret, report.After.Errno));
        }
    }

    private static Observable Get(string name, ulong model, XcompResult actual, string reason) =>
        Observable.Compare(name, $"0x{model:x}", actual.Ok ? $"0x{actual.Value:x}" : Render(actual.Ret, actual.Errno), reason);

    private static string Render(long ret, Errno errno) => ret == 0 ? "0" : $"-1 {errno.Name()}";

    private static string Render(long modelResult) => modelResult == 0 ? "0" : $"-1 {ErrnoNames.Of(modelResult).Name()}";
}
