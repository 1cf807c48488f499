using XsaveLab.Arch.Features;
using XsaveLab.Kvm.Guest;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Kvm.Tests;

public class PermissionTests
{
    [Fact]
    public void Guest_permission_locks_at_the_first_vcpu()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        sys.CreateVm().CreateVcpu(0);
        Assert.True(sys.Perms.GuestPerm.Locked);
        var r = sys.ArchPrctl(ProcessPerms.ArchReqXcompGuestPerm, 18);
        Assert.Equal(Errno.EBUSY, r.Error);
        Assert.Equal(-16L, r.Value);
        // Host permission is unaffected; GET never shows the lock flag or supervisor bits.
        Assert.True(sys.ArchPrctl(ProcessPerms.ArchReqXcompPerm, 18).Ok);
        var g = sys.ArchPrctl(ProcessPerms.ArchGetXcompGuestPerm, 0);
        Assert.Equal(0UL, (ulong)g.Value & ~XFeatureMasks.UserSupported);
    }

    [Fact]
    public void An_already_permitted_request_succeeds_even_when_locked()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        Assert.True(sys.ArchPrctl(ProcessPerms.ArchReqXcompGuestPerm, 18).Ok);
        sys.CreateVm().CreateVcpu(0);
        Assert.True(sys.ArchPrctl(ProcessPerms.ArchReqXcompGuestPerm, 18).Ok);
    }

    [Fact]
    public void Request_errors_follow_xstate_request_perm()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        Assert.Equal(Errno.EINVAL, sys.ArchPrctl(ProcessPerms.ArchReqXcompGuestPerm, 20).Error);
        Assert.Equal(Errno.EOPNOTSUPP, sys.ArchPrctl(ProcessPerms.ArchReqXcompGuestPerm, 17).Error);
        Assert.Equal(Errno.EINVAL, sys.ArchPrctl(0x1099, 0).Error);
        var noAmx = TestCpus.System(TestCpus.Get("icx"));
        Assert.Equal(Errno.EOPNOTSUPP, noAmx.ArchPrctl(ProcessPerms.ArchReqXcompGuestPerm, 18).Error);
    }

    [Fact]
    public void Under_615_a_guest_request_clobbers_the_supervisor_bits_fixed_by_d8414603b29f()
    {
        var cpu = TestCpus.Amx()!;
        var old = TestCpus.System(cpu, "6.15");
        ulong before = old.Perms.GuestPerm.StatePermMask;
        Assert.NotEqual(0UL, before & XFeatureMasks.CetUser);
        Assert.True(old.ArchPrctl(ProcessPerms.ArchReqXcompGuestPerm, 18).Ok);
        Assert.Equal(0UL, old.Perms.GuestPerm.StatePermMask & ~XFeatureMasks.UserSupported);

        var fixedSys = TestCpus.System(cpu, "6.17");
        ulong b17 = fixedSys.Perms.GuestPerm.StatePermMask;
        Assert.True(fixedSys.ArchPrctl(ProcessPerms.ArchReqXcompGuestPerm, 18).Ok);
        Assert.Equal(b17 | XFeatureMasks.XtileData, fixedSys.Perms.GuestPerm.StatePermMask);
        Assert.NotEqual(0UL, fixedSys.Perms.GuestPerm.StatePermMask & XFeatureMasks.CetKernel);
        // The size covers the guest-only state too.
        Assert.Equal(fixedSys.Host.CalculateSize(b17 | XFeatureMasks.XtileData, true), fixedSys.Perms.GuestPerm.StateSize);
    }
}
