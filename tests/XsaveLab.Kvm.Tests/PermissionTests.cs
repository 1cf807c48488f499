namespace XsaveLab.Kvm.Tests;

public class PermissionTests
{
    [Fact]
    public void Guest_permission_locks_at_the_first_vcpu()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        sys.CreateVm().CreateVcpu(0);
        Assert.True(sys.Task.Leader.Fpu.GuestPerm.GuestLocked);
        var r = sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
        Assert.Equal(Errno.EBUSY, r.Errno);
        Assert.Equal(-16L, r.Value);
        // Host permission is unaffected; GET never shows the lock flag or supervisor bits.
        Assert.True(sys.ArchPrctl(ArchPrctl.ReqXcompPerm, 18).Ok);
        var g = sys.ArchPrctl(ArchPrctl.GetXcompGuestPerm, 0);
        Assert.Equal(0UL, (ulong)g.Value & ~XFeatureMasks.UserSupported);
    }

    [Fact]
    public void An_already_permitted_request_succeeds_even_when_locked()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        Assert.True(sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18).Ok);
        sys.CreateVm().CreateVcpu(0);
        Assert.True(sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18).Ok);
    }

    [Fact]
    public void Request_errors_follow_xstate_request_perm()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        Assert.Equal(Errno.EINVAL, sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 20).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 17).Errno);
        Assert.Equal(Errno.EINVAL, sys.ArchPrctl(0x1099, 0).Errno);
        var noAmx = TestCpus.System(TestCpus.Get("icx"));
        Assert.Equal(Errno.EOPNOTSUPP, noAmx.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18).Errno);
    }

    [Fact]
    public void Under_615_a_guest_request_clobbers_the_supervisor_bits_fixed_by_d8414603b29f()
    {
        var cpu = TestCpus.Amx()!;
        var old = TestCpus.System(cpu, "6.15");
        ulong before = old.Task.Leader.Fpu.GuestPerm.StatePerm;
        Assert.NotEqual(0UL, before & XFeatureMasks.CetUser);
        Assert.True(old.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18).Ok);
        Assert.Equal(0UL, old.Task.Leader.Fpu.GuestPerm.StatePerm & ~XFeatureMasks.UserSupported);

        var fixedSys = TestCpus.System(cpu, "6.17");
        ulong b17 = fixedSys.Task.Leader.Fpu.GuestPerm.StatePerm;
        Assert.True(fixedSys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18).Ok);
        Assert.Equal(b17 | XFeatureMasks.XtileData, fixedSys.Task.Leader.Fpu.GuestPerm.StatePerm);
        Assert.NotEqual(0UL, fixedSys.Task.Leader.Fpu.GuestPerm.StatePerm & XFeatureMasks.CetKernel);
        // The size covers the guest-only state too.
        Assert.Equal(fixedSys.Host.CalculateSize(b17 | XFeatureMasks.XtileData, true), fixedSys.Task.Leader.Fpu.GuestPerm.StateSize);
    }
}
