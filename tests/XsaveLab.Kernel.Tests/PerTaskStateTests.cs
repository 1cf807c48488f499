namespace XsaveLab.Kernel.Tests;

public class PerTaskStateTests
{
    [Theory]
    [MemberData(nameof(KernelKit.CpusAndVariants), MemberType = typeof(KernelKit))]
    public void Fpstate_reset_gives_default_buffer_and_permissions(string cpu, string variant)
    {
        var k = KernelKit.Kernel(cpu, variant, 1);
        var sys = k.System;
        var t = k.SpawnProcess("p");
        var f = t.Fpu;
        Assert.Same(f.EmbeddedFpState, f.FpState);
        Assert.Null(f.TaskFpState);
        Assert.Equal(-1, f.LastCpu);
        Assert.True(t.NeedFpuLoad);
        Assert.Equal(sys.KernelCfg.DefaultSize, f.FpState.Size);
        Assert.Equal(sys.KernelCfg.DefaultFeatures, f.FpState.Xfeatures);
        Assert.Equal(sys.UserCfg.DefaultSize, f.FpState.UserSize);
        Assert.Equal(sys.UserCfg.DefaultFeatures, f.FpState.UserXfeatures);
        Assert.Equal(sys.InitXfd, f.FpState.Xfd);
        Assert.Equal(new FpuStatePerm(sys.KernelCfg.DefaultFeatures, sys.KernelCfg.DefaultSize, sys.UserCfg.DefaultSize), f.Perm);
        var v = sys.Variant;
        var expectedGuest = v.GuestPerm switch
        {
            GuestPermSource.CopyOfPerm => f.Perm,
            GuestPermSource.GuestDefaults => new FpuStatePerm(sys.GuestDefaultCfg.Features, sys.GuestDefaultCfg.Size, sys.UserCfg.DefaultSize),
            _ => new FpuStatePerm(sys.KernelCfg.DefaultFeatures | (sys.KernelCfg.MaxFeatures & v.GuestSupervisorMask),
                sys.CalculateSize(sys.KernelCfg.DefaultFeatures | (sys.KernelCfg.MaxFeatures & v.GuestSupervisorMask), sys.Compacted), sys.UserCfg.DefaultSize),
        };
        Assert.Equal(expectedGuest, f.GuestPerm);
        if (sys.XsaveEnabled && sys.Compacted)
            Assert.Equal(sys.KernelCfg.DefaultFeatures | XFeatureMasks.CompactedFormat, f.FpState.XcompBv);
        KernelKit.AssertInvariants(k);
    }

    [Fact]
    public void Fork_of_a_process_inherits_perms_but_a_thread_does_not_copy_them()
    {
        var (k, p) = KernelKit.Running("p", "spr", cpus: 2);
        Assert.Equal(0, k.ArchPrctlRequest(p, 18));
        Assert.Equal(0, k.ArchPrctlRequest(p, 18, guest: true));
        var child = k.Fork(p);
        var thread = k.Fork(p, thread: true);
        Assert.Same(child, child.Leader);
        Assert.Same(p, thread.Leader);
        Assert.Equal(p.Fpu.Perm, child.Fpu.Perm);
        Assert.Equal(p.Fpu.GuestPerm, child.Fpu.GuestPerm);
        Assert.Equal(k.System.KernelCfg.DefaultFeatures, thread.Fpu.Perm.StatePerm);
        Assert.NotEqual(0UL, k.GroupPerm(thread, false) & XFeatureMasks.XtileData);
        Assert.True(child.NeedFpuLoad);
        Assert.Equal(-1, child.Fpu.LastCpu);
        KernelKit.AssertInvariants(k);
    }

    [Fact]
    public void Without_the_dynamic_key_fork_does_not_copy_permissions()
    {
        var k = KernelKit.Kernel("spr", cpus: 1, options: new BootOptions { NoXsaves = true });
        Assert.False(k.FpuStateSizeDynamic);
        var p = k.SpawnProcess("p");
        k.Schedule(0, p);
        k.FpuAllocGuestFpstate(p); // locks p's guest permissions
        var child = k.Fork(p);
        Assert.False(child.Fpu.GuestPerm.GuestLocked);
        // With the key (AMX usable) the locked guest permission is inherited as part of guest_perm.
        var k2 = KernelKit.Kernel("spr", cpus: 1);
        var p2 = k2.SpawnProcess("p");
        k2.Schedule(0, p2);
        k2.FpuAllocGuestFpstate(p2);
        Assert.True(k2.Fork(p2).Fpu.GuestPerm.GuestLocked);
    }

    [Fact]
    public void Fork_clears_PASID_and_saves_only_default_features()
    {
        var k = KernelKit.Kernel("spr", cpus: 1);
        Assert.NotEqual(0UL, k.System.KernelCfg.DefaultFeatures & XFeatureMasks.Pasid);
        var p = k.SpawnProcess("p");
        k.Schedule(0, p);
        var child = k.Fork(p);
        Assert.Equal(0UL, child.Fpu.FpState.XstateBv & XFeatureMasks.Pasid);
        Assert.Equal(k.System.KernelCfg.DefaultFeatures | XFeatureMasks.CompactedFormat, child.Fpu.FpState.XcompBv);
    }

    [Fact]
    public void Exec_resets_fpstate_registers_and_permissions_and_leaks_the_grown_buffer()
    {
        var (k, p) = KernelKit.Running("p", "spr", cpus: 1);
        Assert.Equal(0, k.ArchPrctlRequest(p, 18));
        Assert.Equal(0, k.ArchPrctlRequest(p, 18, guest: true));
        Assert.True(k.UseComponent(p, 18, KernelKit.RandomData(k, 18, new Random(2))).Done);
        Assert.True(k.UseComponent(p, 2, KernelKit.RandomData(k, 2, new Random(3))).Done);
        var grown = p.Fpu.FpState;
        Assert.True(grown.IsValloc);
        long leakedBefore = k.Counters.LeakedBytes;
        k.Exec(p);
        // fpu_flush_thread() → fpstate_reset() repoints fpu->fpstate at __fpstate without vfree().
        Assert.False(grown.Freed);
        Assert.Contains(grown, k.LeakedFpStates);
        Assert.Equal(XsaveLab.Kernel.Memory.FpstateAllocation.Bytes(grown.Size), k.Counters.LeakedBytes - leakedBefore);
        Assert.Same(p.Fpu.EmbeddedFpState, p.Fpu.FpState);
        Assert.Equal(0UL, k.ArchPrctlGet(p, ArchPrctl.GetXcompPerm) & XFeatureMasks.XtileData);
        Assert.Equal(0UL, k.ArchPrctlGet(p, ArchPrctl.GetXcompGuestPerm) & XFeatureMasks.XtileData);
        Assert.All(k.ReadComponent(p, 2).ToArray(), b => Assert.Equal(0, b));
        Assert.All(k.ReadComponent(p, 18).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(XFeatureMasks.XtileData, k.Cpus[0].Cpu.Xfd);
        KernelKit.AssertInvariants(k);
    }

    /// <summary>The grown buffer dropped by exec is reached by neither vfree() site afterwards:
    /// <c>fpstate_realloc()</c> (the next ARCH_REQ_XCOMP_PERM + first AMX use) frees the buffer it replaces only
    /// if it is_valloc — after exec that is <c>__fpstate</c> — and <c>fpstate_free()</c> at task release frees
    /// only the current <c>fpu-&gt;fpstate</c>. Each exec of an AMX task leaks one buffer.</summary>
    [Fact]
    public void Exec_leak_survives_fpstate_realloc_and_fpstate_free_at_exit()
    {
        var (k, p) = KernelKit.Running("p", "spr", cpus: 1);
        var rng = new Random(5);
        var buffers = new List<FpState>();
        for (int round = 0; round < 2; round++)
        {
            Assert.Equal(0, k.ArchPrctlRequest(p, ArchPrctl.XcompTileData));
            Assert.True(k.UseComponent(p, ArchPrctl.XcompTileData, KernelKit.RandomData(k, ArchPrctl.XcompTileData, rng)).Done);
            Assert.True(p.Fpu.FpState.IsValloc);
            buffers.Add(p.Fpu.FpState);
            k.Exec(p);
            // fpstate_reset() dropped the permission too: AMX needs a new request after exec.
            Assert.Equal(0UL, k.GroupPerm(p, guest: false) & XFeatureMasks.XtileData);
        }
        Assert.Equal(buffers, k.LeakedFpStates);
        Assert.Equal(2L * XsaveLab.Kernel.Memory.FpstateAllocation.Bytes(buffers[0].Size), k.Counters.LeakedBytes);
        // A third grown buffer, then exit: arch_release_task_struct() → fpstate_free() frees that one only.
        Assert.Equal(0, k.ArchPrctlRequest(p, ArchPrctl.XcompTileData));
        Assert.True(k.UseComponent(p, ArchPrctl.XcompTileData, KernelKit.RandomData(k, ArchPrctl.XcompTileData, rng)).Done);
        var last = p.Fpu.FpState;
        k.Exit(p);
        Assert.True(last.Freed);
        Assert.All(buffers, b => Assert.False(b.Freed));
        Assert.Equal(k.Counters.VallocBytes - k.Counters.VfreeBytes, k.Counters.LeakedBytes);
    }

    [Fact]
    public void Kernel_threads_are_never_saved_on_switch_and_kernel_fpu_use_preserves_user_state()
    {
        var k = KernelKit.Kernel("spr", cpus: 1);
        var kt = k.SpawnKernelThread("kworker");
        var p = k.SpawnProcess("p");
        k.Schedule(0, p);
        var data = KernelKit.RandomData(k, 2, new Random(4));
        Assert.True(k.UseComponent(p, 2, data).Done);
        var want = k.ReadComponent(p, 2).ToArray();
        long saves = k.Counters.Saves;
        k.Schedule(0, kt);
        Assert.Equal(saves + 1, k.Counters.Saves); // p saved
        k.KernelFpuBegin(0);
        Assert.False(k.KernelFpuUse(0, 2, KernelKit.RandomData(k, 2, new Random(5))).IsFault);
        k.KernelFpuEnd(0);
        k.Schedule(0, p);
        Assert.Equal(saves + 1, k.Counters.Saves); // the kernel thread is not saved
        Assert.Equal(want, k.ReadComponent(p, 2).ToArray());
        // kernel_fpu_begin() with the user task current saves it and invalidates the registers.
        k.KernelFpuBegin(0);
        Assert.True(p.NeedFpuLoad);
        Assert.Null(k.Cpus[0].FpregsOwnerCtx);
        Assert.False(k.KernelFpuUse(0, 2, KernelKit.RandomData(k, 2, new Random(6))).IsFault);
        k.KernelFpuEnd(0);
        Assert.Equal(want, k.ReadComponent(p, 2).ToArray());
        Assert.Empty(k.Warnings.Entries);
        k.KernelFpuBegin(0);
        k.KernelFpuBegin(0);
        Assert.Single(k.Warnings.Entries);
    }

    [Fact]
    public void Return_to_the_same_cpu_skips_the_restore_and_migration_restores()
    {
        var (k, p) = KernelKit.Running("p", "tgl", cpus: 2);
        k.Deschedule(0);
        Assert.Equal(0, p.Fpu.LastCpu);
        long restores = k.Counters.Restores;
        k.Schedule(0, p);
        Assert.Equal(restores, k.Counters.Restores);
        Assert.Equal(1, k.Counters.RestoresAvoided);
        k.Deschedule(0);
        k.Schedule(1, p);
        Assert.Equal(restores + 1, k.Counters.Restores);
        Assert.Equal(1, p.Fpu.LastCpu);
    }

    [Fact]
    public void Pkru_is_switched_eagerly()
    {
        var k = KernelKit.Kernel("icx", cpus: 1);
        Assert.True(k.OsPke);
        var a = k.SpawnProcess("a");
        var b = k.SpawnProcess("b");
        k.Schedule(0, a);
        var pk = new byte[8];
        pk[0] = 0x0c; // key 1 access- and write-disabled off, key 0 open
        Assert.True(k.UseComponent(a, (int)XFeature.Pkru, pk).Done);
        k.Schedule(0, b);
        Assert.Equal(0x0cu, a.Pkru);
        Assert.Equal(LinuxKernel.InitPkruValue, BitConverter.ToUInt32(k.ReadComponent(b, (int)XFeature.Pkru)));
        k.Schedule(0, a);
        Assert.Equal(0x0cu, BitConverter.ToUInt32(k.ReadComponent(a, (int)XFeature.Pkru)));
        // fork copies the live value; exec restores the default.
        var c = k.Fork(a);
        Assert.Equal(0x0cu, c.Pkru);
        k.Exec(a);
        Assert.Equal(LinuxKernel.InitPkruValue, BitConverter.ToUInt32(k.ReadComponent(a, (int)XFeature.Pkru)));
        Assert.Equal(LinuxKernel.InitPkruValue, a.Pkru);
    }
}
