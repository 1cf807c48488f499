namespace XsaveLab.Kernel.Tests;

/// <summary>The permission table of docs/linux-fpu-core.md, row by row, on an AMX part (and parts without AMX where the row needs it).</summary>
public class PermissionTableTests
{
    private static (LinuxKernel K, KernelTask T) Amx(string variant = "6.17", BootOptions? o = null)
    {
        var (k, t) = KernelKit.Running("p", "spr", variant, 2, o);
        return (k, t);
    }

    [Fact]
    public void Request_on_a_32bit_kernel_is_EOPNOTSUPP()
    {
        var (k, t) = Amx(o: new BootOptions { X86_64 = false });
        Assert.Equal(-(long)Errno.EOPNOTSUPP, k.ArchPrctlRequest(t, ArchPrctl.XcompTileData));
        Assert.Equal(-(long)Errno.EOPNOTSUPP, k.ArchPrctlRequest(t, ArchPrctl.XcompTileData, guest: true));
    }

    [Theory]
    [InlineData(20)]
    [InlineData(63)]
    [InlineData(1000)]
    public void Feature_number_past_the_table_is_EINVAL(int idx)
    {
        var (k, t) = Amx();
        Assert.Equal(-(long)Errno.EINVAL, k.ArchPrctlRequest(t, idx));
        Assert.Equal(-(long)Errno.EINVAL, k.ArchPrctlRequest(t, idx, guest: true));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(12)]
    [InlineData(ArchPrctl.XcompTileCfg)]
    [InlineData(19)]
    public void Features_other_than_tile_data_are_EOPNOTSUPP(int idx)
    {
        var (k, t) = Amx();
        Assert.Equal(-(long)Errno.EOPNOTSUPP, k.ArchPrctlRequest(t, idx));
    }

    [Fact]
    public void Tile_data_without_AMX_or_without_XFD_is_EOPNOTSUPP()
    {
        var k = KernelKit.Kernel("icx");
        var t = k.SpawnProcess("p");
        Assert.Equal(0UL, k.System.UserCfg.MaxFeatures & XFeatureMasks.XtileData);
        Assert.Equal(-(long)Errno.EOPNOTSUPP, k.ArchPrctlRequest(t, 18));
        // noxsaves clears XSAVES and with it XFD (cpuid-deps.c), so AMX tile data is not in the user max.
        var (k2, t2) = Amx(o: new BootOptions { NoXsaves = true });
        Assert.False(k2.System.Caps.Xfd);
        Assert.Equal(-(long)Errno.EOPNOTSUPP, k2.ArchPrctlRequest(t2, 18));
    }

    [Fact]
    public void Already_permitted_returns_0_even_when_guest_permissions_are_locked()
    {
        var (k, t) = Amx();
        Assert.Equal(0, k.ArchPrctlRequest(t, 18));
        Assert.Equal(0, k.ArchPrctlRequest(t, 18));
        Assert.Equal(0, k.ArchPrctlRequest(t, 18, guest: true));
        k.FpuAllocGuestFpstate(t);
        Assert.True(t.Fpu.GuestPerm.GuestLocked);
        Assert.Equal(0, k.ArchPrctlRequest(t, 18, guest: true));
    }

    [Fact]
    public void Guest_request_after_vcpu_creation_is_EBUSY_and_host_perms_are_unaffected()
    {
        var (k, t) = Amx();
        k.FpuAllocGuestFpstate(t);
        Assert.Equal(-(long)Errno.EBUSY, k.ArchPrctlRequest(t, 18, guest: true));
        Assert.Equal(0, k.ArchPrctlRequest(t, 18));
        Assert.Equal(0UL, k.ArchPrctlGet(t, ArchPrctl.GetXcompGuestPerm) & XFeatureMasks.XtileData);
    }

    [Fact]
    public void Host_request_with_a_too_small_sigaltstack_in_another_thread_is_ENOSPC()
    {
        var (k, t) = Amx();
        var th = k.Fork(t, thread: true);
        ulong small = (ulong)(k.System.MaxFrameSize - k.System.FeatureSize(18));
        Assert.Equal(0, k.Sigaltstack(th, small));
        ulong before = k.ArchPrctlGet(t, ArchPrctl.GetXcompPerm);
        Assert.Equal(-(long)Errno.ENOSPC, k.ArchPrctlRequest(t, 18));
        Assert.Equal(before, k.ArchPrctlGet(t, ArchPrctl.GetXcompPerm));
        // guest requests are not checked against signal stacks
        Assert.Equal(0, k.ArchPrctlRequest(t, 18, guest: true));
    }

    [Fact]
    public void Unknown_option_is_EINVAL()
    {
        var (k, t) = Amx();
        Assert.Equal(-(long)Errno.EINVAL, k.ArchPrctlCall(t, 0x1026, 0, out _));
        Assert.Equal(-(long)Errno.EINVAL, k.ArchPrctlCall(t, 0x1020, 0, out _));
    }

    [Fact]
    public void Get_with_a_faulting_pointer_is_EFAULT()
    {
        var (k, t) = Amx();
        Assert.Equal(-(long)Errno.EFAULT, k.ArchPrctlCall(t, ArchPrctl.GetXcompPerm, 0, out _, faultingPointer: true));
    }

    [Fact]
    public void NM_for_an_unpermitted_dynamic_feature_is_SIGILL_ILL_ILLOPC()
    {
        var (k, t) = Amx();
        var r = k.UseComponent(t, 18, new byte[k.System.FeatureSize(18)]);
        Assert.False(r.Done);
        Assert.Equal(SignalInfo.SIGILL, r.Signal!.Value.Signo);
        Assert.Equal(SignalInfo.ILL_ILLOPC, r.Signal!.Value.Code);
        Assert.Equal(Arch.Machine.FaultKind.DeviceNotAvailable, r.LastFault.Kind);
    }

    [Fact]
    public void Exposing_AMX_to_a_guest_without_guest_permission_is_EPERM()
    {
        var (k, t) = Amx();
        var g = k.FpuAllocGuestFpstate(t);
        Assert.Equal(-(long)Errno.EPERM, k.FpuEnableGuestXfdFeatures(t, g, XFeatureMasks.Xtile));
        Assert.Equal(0UL, g.Xfeatures & XFeatureMasks.XtileData);
    }

    [Fact]
    public void Get_values_are_masked_with_USER_SUPPORTED()
    {
        var (k, t) = Amx();
        var sys = k.System;
        Assert.Equal(sys.UserCfg.MaxFeatures | sys.UserCfg.LegacyFeatures, k.ArchPrctlGet(t, ArchPrctl.GetXcompSupp));
        Assert.Equal(sys.KernelCfg.DefaultFeatures & XFeatureMasks.UserSupported, k.ArchPrctlGet(t, ArchPrctl.GetXcompPerm));
        k.FpuAllocGuestFpstate(t);
        ulong gp = k.ArchPrctlGet(t, ArchPrctl.GetXcompGuestPerm);
        Assert.Equal(0UL, gp & ~XFeatureMasks.UserSupported);
        Assert.NotEqual(0UL, t.Fpu.GuestPerm.StatePerm & XFeatureMasks.CetKernel);
        Assert.Equal(t.Fpu.GuestPerm.StatePerm & XFeatureMasks.UserSupported, gp);
    }

    [Fact]
    public void Successful_request_stores_old_perm_plus_requested_with_sizes()
    {
        var (k, t) = Amx();
        ulong old = t.Fpu.Perm.StatePerm;
        Assert.Equal(0, k.ArchPrctlRequest(t, 18));
        var p = t.Fpu.Perm;
        Assert.Equal(old | XFeatureMasks.XtileData, p.StatePerm);
        Assert.Equal(k.System.CalculateSize(p.StatePerm, true), p.StateSize);
        Assert.Equal(k.System.UserCfg.MaxSize, p.UserStateSize);
    }
}
