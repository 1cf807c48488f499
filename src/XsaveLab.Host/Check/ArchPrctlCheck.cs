using XsaveLab.Arch.Features;
using XsaveLab.Host.Linux;
using XsaveLab.Kernel.Boot;

namespace XsaveLab.Host.Check;

/// <summary>ARCH_GET_XCOMP_SUPP/PERM/GUEST_PERM of this process, and ARCH_REQ_XCOMP_PERM /
/// ARCH_REQ_XCOMP_GUEST_PERM for every feature number 0..63, issued in order by a child process (a
/// successful request cannot be undone, so this process never issues one).</summary>
public sealed class ArchPrctlCheck : IHostCheckProvider
{
    public string Name => "arch_prctl";

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        var sys = ctx.System;
        ulong supp = sys.UserCfg.MaxFeatures | sys.UserCfg.LegacyFeatures;
        ulong perm = sys.KernelCfg.DefaultFeatures & XFeatureMasks.UserSupported;
        ulong guest = sys.GuestDefaultCfg.Features & XFeatureMasks.UserSupported;
        yield return Get("ARCH_GET_XCOMP_SUPP", supp, ArchPrctl.GetSupported(), "fpu_user_cfg.max_features | legacy_features");
        yield return Get("ARCH_GET_XCOMP_PERM", perm, ArchPrctl.GetPermitted(), "perm.__state_perm (= kernel default features) & USER_SUPPORTED");
        yield return Get("ARCH_GET_XCOMP_GUEST_PERM", guest, ArchPrctl.GetGuestPermitted(), "guest_perm.__state_perm (= guest default features) & USER_SUPPORTED");

        if (ctx.Launcher is null)
        {
            yield return Observable.Skipped("ARCH_REQ_XCOMP_PERM 0..63", ctx.LauncherUnavailableReason);
            yield return Observable.Skipped("ARCH_REQ_XCOMP_GUEST_PERM 0..63", ctx.LauncherUnavailableReason);
            yield break;
        }
        foreach (var (option, name, isGuest, start) in new[]
                 {
                     (ArchPrctl.ReqXcompPerm, "ARCH_REQ_XCOMP_PERM", false, perm),
                     (ArchPrctl.ReqXcompGuestPerm, "ARCH_REQ_XCOMP_GUEST_PERM", true, guest),
                 })
        {
            var report = XcompRequestProbe.Run(ctx.Launcher, option, Enumerable.Range(0, 64).Select(i => (long)i));
            ulong permitted = isGuest ? sys.GuestDefaultCfg.Features : sys.KernelCfg.DefaultFeatures;
            foreach (var (feature, result) in report.Requests)
            {
                var (ret, errno) = RequestPerm(sys, ref permitted, feature);
                yield return Observable.Compare($"{name}({feature})", Render(ret, errno), Render(result.Ret, result.Errno),
                    "xstate_request_perm(): idx >= XFEATURE_MAX ⇒ -EINVAL; only XTILE_DATA is requestable; not in user max ⇒ -EOPNOTSUPP");
            }
            yield return Observable.Compare($"{name}: GET after the requests", $"0x{permitted & XFeatureMasks.UserSupported:X}",
                report.After.Ok ? $"0x{report.After.Value:X}" : Render(report.After.Ret, report.After.Errno));
        }
    }

    private static Observable Get(string name, ulong model, XcompResult actual, string reason) =>
        Observable.Compare(name, $"0x{model:X}", actual.Ok ? $"0x{actual.Value:X}" : Render(actual.Ret, actual.Errno), reason);

    private static string Render(long ret, int errno) => ret == 0 ? "0" : $"-1 {Linux.Errno.Name(errno)}";

    /// <summary><c>xstate_request_perm(idx, guest)</c> for a fresh process with no sigaltstack and no vCPU
    /// (linux-fpu.md §4.3–4.4): idx ≥ XFEATURE_MAX (20) ⇒ -EINVAL; xstate_prctl_req[idx] = 0 (all but 18) ⇒
    /// -EOPNOTSUPP; XTILE_DATA ∉ fpu_user_cfg.max_features ⇒ -EOPNOTSUPP; already permitted ⇒ 0; else the
    /// permission becomes permitted | requested.</summary>
    private static (long Ret, int Errno) RequestPerm(FpuSystem sys, ref ulong permitted, long idx)
    {
        const int xfeatureMax = 20;
        if (idx < 0 || idx >= xfeatureMax)
            return (-1, Linux.Errno.EINVAL);
        ulong requested = idx == (int)XFeature.XtileData ? XFeatureMasks.XtileData : 0;
        if (requested == 0 || (sys.UserCfg.MaxFeatures & requested) != requested)
            return (-1, Linux.Errno.EOPNOTSUPP);
        permitted |= requested;
        return (0, 0);
    }
}
