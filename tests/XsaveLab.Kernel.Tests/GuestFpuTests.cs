namespace XsaveLab.Kernel.Tests;

public class GuestFpuTests
{
    [Theory]
    [MemberData(nameof(KernelKit.CpusAndVariants), MemberType = typeof(KernelKit))]
    public void Alloc_sizes_features_and_lock_follow_the_variant(string cpu, string variant)
    {
        var k = KernelKit.Kernel(cpu, variant, 1);
        var sys = k.System;
        var t = k.SpawnProcess("qemu");
        k.Schedule(0, t);
        var g = k.FpuAllocGuestFpstate(t);
        var fps = g.FpState!;
        bool guestDefaults = sys.Variant.GuestState == GuestStateSource.GuestDefaults;
        Assert.Equal(guestDefaults ? sys.GuestDefaultCfg.Size : sys.KernelCfg.DefaultSize, fps.Size);
        Assert.Equal(guestDefaults ? sys.GuestDefaultCfg.Features : sys.KernelCfg.DefaultFeatures, fps.Xfeatures);
        Assert.Equal(fps.Xfeatures, g.Xfeatures);
        Assert.True(fps.IsGuest && fps.IsValloc && !fps.InUse);
        Assert.Equal(0UL, fps.Xfd);
        Assert.Equal(LinuxKernel.KvmXsaveSize, g.UabiSize);
        Assert.True(t.Fpu.GuestPerm.GuestLocked);
        Assert.False(t.Fpu.Perm.GuestLocked);
        KernelKit.AssertInvariants(k);
    }

    [SkippableFact]
    public void Swap_loads_and_saves_guest_CET_supervisor_state_and_host_gets_init()
    {
        var k = KernelKit.Kernel("tgl", "6.17", 1);
        Skip.If((k.System.KernelCfg.MaxFeatures & XFeatureMasks.CetKernel) == 0, "no CET_KERNEL");
        var t = k.SpawnProcess("vcpu");
        k.Schedule(0, t);
        var g = k.FpuAllocGuestFpstate(t);
        var cpu = k.Cpus[0].Cpu;
        k.FpuSwapKvmFpstate(t, g, enterGuest: true);
        Assert.Same(g.FpState, t.Fpu.FpState);
        Assert.True(g.FpState!.InUse);
        cpu.Cpl = 0;
        Assert.False(cpu.Wrmsr(Msr.IA32_PL0_SSP, 0xffff_8880_1234_5000).IsFault);
        k.FpuSwapKvmFpstate(t, g, enterGuest: false);
        Assert.NotEqual(0UL, g.FpState.XstateBv & XFeatureMasks.CetKernel);
        Assert.Equal(0UL, t.Fpu.FpState.XcompBv & XFeatureMasks.CetKernel);
        cpu.Cpl = 0;
        cpu.Rdmsr(Msr.IA32_PL0_SSP, out ulong hostSsp);
        Assert.Equal(0UL, hostSsp); // XRSTORS of the host buffer (RFBM has bit 12, XSTATE_BV does not) inits CET_S
        k.FpuSwapKvmFpstate(t, g, enterGuest: true);
        cpu.Cpl = 0;
        cpu.Rdmsr(Msr.IA32_PL0_SSP, out ulong guestSsp);
        Assert.Equal(0xffff_8880_1234_5000UL, guestSsp);
        KernelKit.AssertInvariants(k);
    }

    [Fact]
    public void Enable_guest_AMX_grows_the_guest_buffer_and_update_xfd_writes_the_msr_when_in_use()
    {
        var (k, t, g) = KernelKit.GuestWithAmx("qemu");
        Assert.Equal(t.Fpu.GuestPerm.StateSize, g.FpState!.Size);
        Assert.Equal(t.Fpu.GuestPerm.UserStateSize, g.UabiSize);
        Assert.NotEqual(0UL, g.Xfeatures & XFeatureMasks.XtileData);
        Assert.Equal(0, k.FpuEnableGuestXfdFeatures(t, g, XFeatureMasks.Xtile)); // nothing left to do
        k.FpuSwapKvmFpstate(t, g, enterGuest: true);
        Assert.Equal(0UL, k.Cpus[0].Cpu.Xfd);
        Assert.True(k.UseComponent(t, 18, KernelKit.RandomData(k, 18, new Random(8))).Done);
        k.FpuUpdateGuestXfd(t, g, XFeatureMasks.XtileData);
        Assert.Equal(XFeatureMasks.XtileData, k.Cpus[0].Cpu.Xfd);
        // A guest touching XFD-armed tile data takes #NM itself: KVM keeps XFD_ERR, no host signal, no realloc.
        long reallocs = k.Counters.Reallocations;
        var r = k.UseComponent(t, 18, KernelKit.RandomData(k, 18, new Random(9)));
        Assert.False(r.Done);
        Assert.Null(r.Signal);
        Assert.Equal(XFeatureMasks.XtileData, g.XfdErr);
        Assert.Equal(reallocs, k.Counters.Reallocations);
        Assert.Empty(t.Signals);
        k.FpuUpdateGuestXfd(t, g, 0);
        k.FpuSwapKvmFpstate(t, g, enterGuest: false);
        Assert.Equal(XFeatureMasks.XtileData, k.Cpus[0].Cpu.Xfd); // host default: AMX armed
        KernelKit.AssertInvariants(k);
    }

    [Fact]
    public void Free_refuses_a_guest_fpstate_in_use()
    {
        var (k, t) = KernelKit.Running("qemu", "tgl", "6.17", 1);
        var g = k.FpuAllocGuestFpstate(t);
        k.FpuSwapKvmFpstate(t, g, enterGuest: true);
        k.FpuFreeGuestFpstate(g);
        Assert.Single(k.Warnings.Entries);
        Assert.NotNull(g.FpState);
        k.FpuSwapKvmFpstate(t, g, enterGuest: false);
        var fps = g.FpState!;
        k.FpuFreeGuestFpstate(g);
        Assert.Null(g.FpState);
        Assert.True(fps.Freed);
    }

    [Fact]
    public void Uabi_round_trip_keeps_guest_supervisor_state()
    {
        var (k, t) = KernelKit.Running("qemu", "tgl", "6.17", 1);
        var g = k.FpuAllocGuestFpstate(t);
        k.FpuSwapKvmFpstate(t, g, enterGuest: true);
        var ymm = KernelKit.RandomData(k, 2, new Random(9));
        Assert.True(k.UseComponent(t, 2, ymm).Done);
        var cpu = k.Cpus[0].Cpu;
        cpu.Cpl = 0;
        cpu.Wrmsr(Msr.IA32_PL1_SSP, 0xffff_8880_0000_2000);
        k.FpuSwapKvmFpstate(t, g, enterGuest: false);
        var buf = new byte[g.UabiSize];
        k.FpuCopyGuestFpstateToUabi(g, buf, k.System.UserCfg.MaxFeatures, 0);
        ulong hdr = BitConverter.ToUInt64(buf, 512);
        Assert.NotEqual(0UL, hdr & XFeatureMasks.Ymm);
        Assert.Equal(0UL, hdr & ~XFeatureMasks.UserSupported);
        int ymmOff = k.System.Profile.Component(2)!.Value.StandardOffset!.Value;
        Assert.Equal(ymm, buf.AsSpan(ymmOff, ymm.Length).ToArray());
        ulong xstateBefore = g.FpState!.XstateBv;
        uint pkru = 0;
        Assert.True(k.FpuCopyUabiToGuestFpstate(g, buf, k.System.UserCfg.MaxFeatures, ref pkru).Ok);
        Assert.Equal(xstateBefore & XFeatureMasks.CetKernel, g.FpState.XstateBv & XFeatureMasks.CetKernel);
        // A header bit outside the given XCR0 is refused.
        Assert.Equal(Errno.EINVAL, k.FpuCopyUabiToGuestFpstate(g, buf, XFeatureMasks.FpSse, ref pkru).Errno);
    }
}

public class GuestFpuConfidentialAndTimestampTests
{
    [Fact]
    public void Confidential_guest_state_is_neither_saved_nor_restored()
    {
        var (k, t) = KernelKit.Running("vcpu", "zen4-genoa", "6.17", 1);
        var g = k.FpuAllocGuestFpstate(t);
        k.MarkGuestConfidential(g);
        long saves = k.Counters.Saves, restores = k.Counters.Restores;
        k.FpuSwapKvmFpstate(t, g, enterGuest: true);
        Assert.Equal(saves + 1, k.Counters.Saves);       // the host state is saved
        Assert.Equal(restores, k.Counters.Restores);     // nothing loaded for the protected guest
        k.FpuSwapKvmFpstate(t, g, enterGuest: false);
        Assert.Equal(saves + 1, k.Counters.Saves);       // the protected guest is not saved
        Assert.Equal(restores + 1, k.Counters.Restores); // the host is restored
        KernelKit.AssertInvariants(k);
    }

    [Fact]
    public void Avx512_timestamp_follows_saves_that_find_ZMM_state_in_use()
    {
        var k = KernelKit.Kernel("skx", "6.17", 1);
        var t = k.SpawnProcess("p");
        var other = k.SpawnProcess("q");
        k.Schedule(0, t);
        k.Schedule(0, other);
        Assert.Equal(0, t.Fpu.Avx512Timestamp);
        k.Schedule(0, t);
        Assert.True(k.UseComponent(t, 6, KernelKit.RandomData(k, 6, new Random(1))).Done);
        long now = k.Jiffies;
        k.Schedule(0, other); // the save happens at this time
        Assert.Equal(now, t.Fpu.Avx512Timestamp);
        Assert.NotEqual(0, now);
    }
}

public class GuestXfdSyncTests
{
    [Fact]
    public void Guest_written_XFD_is_synced_into_the_guest_fpstate_after_vmexit()
    {
        var (k, t, g) = KernelKit.GuestWithAmx("vcpu");
        k.FpuSwapKvmFpstate(t, g, enterGuest: true);
        var cpu = k.Cpus[0].Cpu;
        cpu.Cpl = 0;
        Assert.False(cpu.Wrmsr(Msr.IA32_XFD, XFeatureMasks.XtileData).IsFault); // the guest's own WRMSR
        k.FpuSyncGuestVmexitXfdState(t);
        Assert.Equal(XFeatureMasks.XtileData, g.FpState!.Xfd);
        Assert.Equal(XFeatureMasks.XtileData, k.Cpus[0].XfdState);
        KernelKit.AssertInvariants(k);
        k.FpuSwapKvmFpstate(t, g, enterGuest: false);
        Assert.Equal(k.System.InitXfd, cpu.Xfd);
    }
}
