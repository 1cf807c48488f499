namespace XsaveLab.Host.Tests.Linux;

public class ArchPrctlTests
{
    [SkippableFact]
    public void GetSupported_equals_cpuid_xcr0_restricted_to_user_supported()
    {
        HostFacts.SkipUnlessXsaveLinux();
        var r = LiveArchPrctl.GetSupported();
        Assert.True(r.Ok, $"ARCH_GET_XCOMP_SUPP: {r}");
        Assert.Equal(HostFacts.CpuidUserXcr0, r.Value);
    }

    [SkippableFact]
    public void GetPermitted_and_guest_permitted_are_the_default_user_features()
    {
        HostFacts.SkipUnlessXsaveLinux();
        // Permissions start as the default features: everything but dynamic (AMX tile data) ones
        // (fpu__init_system_xstate → fpstate_reset → perm = default_features; GET masks USER_SUPPORTED).
        ulong supp = LiveArchPrctl.GetSupported().Value;
        var perm = LiveArchPrctl.GetPermitted();
        var guest = LiveArchPrctl.GetGuestPermitted();
        Assert.True(perm.Ok, $"ARCH_GET_XCOMP_PERM: {perm}");
        Assert.True(guest.Ok, $"ARCH_GET_XCOMP_GUEST_PERM: {guest}");
        Assert.Equal(supp & ~XFeatureMasks.UserDynamic, perm.Value);
        Assert.Equal(supp & ~XFeatureMasks.UserDynamic, guest.Value);
    }

    [SkippableFact]
    public void Unknown_option_is_EINVAL_and_writes_nothing()
    {
        HostFacts.SkipUnlessXsaveLinux();
        var r = LiveArchPrctl.Get(0x1026);
        Assert.Equal(-1, r.Ret);
        Assert.Equal(Errno.EINVAL, r.Errno);
        Assert.Equal(LiveArchPrctl.Unwritten, r.Value);
    }

    [SkippableTheory]
    [InlineData(XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompPerm)]
    [InlineData(XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm)]
    public void Requests_for_every_feature_number_in_a_child_follow_xstate_request_perm(int option)
    {
        var launcher = HostFacts.ChildLauncher();
        ulong permBefore = LiveArchPrctl.GetPermitted().Value, guestBefore = LiveArchPrctl.GetGuestPermitted().Value;
        ulong supp = LiveArchPrctl.GetSupported().Value;

        long[] features = [.. Enumerable.Range(0, 64).Select(i => (long)i), 64, -1];
        var report = XcompRequestProbe.Run(launcher, option, features);

        Assert.Equal(features.Length, report.Requests.Count);
        // xstate_request_perm(): idx >= XFEATURE_MAX → EINVAL; only idx 18 (XTILE_DATA) is requestable,
        // and only when the kernel supports it. XFEATURE_MAX is the kernel's, so find the boundary.
        var results = report.Requests.ToDictionary(r => r.Feature, r => r.Result);
        int boundary = Enumerable.Range(0, 65).First(i => i == 64 || results[i].Errno == Errno.EINVAL);
        Assert.True(boundary >= 19, $"EINVAL already from feature {boundary}");
        bool amx = (supp & XFeatureMasks.XtileData) != 0;
        for (int i = 0; i < 64; i++)
        {
            var r = results[i];
            string what = $"feature {i}: {r}";
            if (i >= boundary)
                Assert.True(r.Ret == -1 && r.Errno == Errno.EINVAL, what);
            else if (i == 18 && amx)
                Assert.True(r.Ok, what);
            else
                Assert.True(r.Ret == -1 && r.Errno == Errno.EOPNOTSUPP, what);
        }
        Assert.Equal(Errno.EINVAL, results[64].Errno);
        Assert.Equal(Errno.EINVAL, results[-1].Errno);
        Assert.True(report.Before.Ok && report.After.Ok);
        ulong expectedAfter = amx ? report.Before.Value | XFeatureMasks.XtileData : report.Before.Value;
        Assert.Equal(expectedAfter, report.After.Value);

        // The test process itself is untouched.
        Assert.Equal(permBefore, LiveArchPrctl.GetPermitted().Value);
        Assert.Equal(guestBefore, LiveArchPrctl.GetGuestPermitted().Value);
    }

    [SkippableFact]
    public void Failing_requests_here_do_not_change_permissions()
    {
        HostFacts.SkipUnlessXsaveLinux();
        ulong supp = LiveArchPrctl.GetSupported().Value;
        Skip.If((supp & XFeatureMasks.XtileData) != 0, "AMX tile data is supported here: a request would succeed and change this process");
        ulong before = LiveArchPrctl.GetPermitted().Value;
        // Feature 2 (AVX) is never requestable: EOPNOTSUPP with no change (xstate_prctl_req[2] == 0).
        var r = LiveArchPrctl.RequestPermission(2);
        Assert.Equal(Errno.EOPNOTSUPP, r.Errno);
        Assert.Equal(before, LiveArchPrctl.GetPermitted().Value);
    }
}
