namespace XsaveLab.Kernel.Tests;

/// <summary>tools/testing/selftests/x86/amx.c (docs/linux-fpu-core.md, "Selftests") on the catalog's AMX parts.</summary>
public class AmxSelftestTests
{
    public static IEnumerable<object[]> Cpus() => KernelKit.AmxCpus();

    private static byte[] Tiles(LinuxKernel k, Random rng) => KernelKit.RandomData(k, (int)XFeature.XtileData, rng);

    /// <summary>The selftest's process on a two-CPU kernel, running on CPU 0.</summary>
    private static (LinuxKernel K, KernelTask Main) Start(string cpu)
    {
        var (k, main) = KernelKit.Running("amx", cpu, cpus: 2);
        return (k, main);
    }

    /// <summary>fork() of <paramref name="parent"/>, the child scheduled on <paramref name="onCpu"/>.</summary>
    private static KernelTask ForkOn(LinuxKernel k, KernelTask parent, int onCpu)
    {
        var child = k.Fork(parent);
        k.Schedule(onCpu, child);
        return child;
    }

    [Theory]
    [MemberData(nameof(Cpus))]
    public void Dynamic_state_permission_sigaltstack_and_fork(string cpu)
    {
        var (k, main) = Start(cpu);
        var rng = new Random(18);
        // Setup: ARCH_GET_XCOMP_SUPP shows both tile bits.
        Assert.Equal(XFeatureMasks.Xtile, k.ArchPrctlGet(main, ArchPrctl.GetXcompSupp) & XFeatureMasks.Xtile);

        var child = ForkOn(k, main, 1);

        // a. Without permission loading tile data raises SIGILL/ILL_ILLOPC.
        var r = k.UseComponent(child, 18, Tiles(k, rng));
        Assert.Equal(SignalInfo.SIGILL, r.Signal?.Signo);
        Assert.Equal(SignalInfo.ILL_ILLOPC, r.Signal?.Code);
        Assert.Equal(0UL, child.Fpu.FpState.Xfeatures & XFeatureMasks.XtileData);

        // b. test_dynamic_sigaltstack.
        ulong minsig = (ulong)k.System.MaxFrameSize; // AT_MINSIGSTKSZ
        ulong small = minsig - (ulong)k.System.FeatureSize(18);
        Assert.Equal(0, k.Sigaltstack(child, small));
        ulong perm = k.ArchPrctlGet(child, ArchPrctl.GetXcompPerm);
        Assert.NotEqual(0UL, perm & XFeatureMasks.XtileCfg);
        Assert.Equal(-(long)Errno.ENOSPC, k.ArchPrctlRequest(child, 18));
        Assert.Equal(0, k.Sigaltstack(child, 2 * minsig));
        Assert.Equal(0, k.ArchPrctlRequest(child, 18));
        Assert.Equal(perm | XFeatureMasks.XtileData, k.ArchPrctlGet(child, ArchPrctl.GetXcompPerm));
        Assert.NotEqual(0, k.Sigaltstack(child, small));

        // c. Loading tile data now works: the #NM reallocates the fpstate.
        var tiles = Tiles(k, rng);
        Assert.True(k.UseComponent(child, 18, tiles).Done);
        Assert.Equal(tiles, k.ReadComponent(child, 18).ToArray());
        Assert.True(child.Fpu.FpState.IsValloc);
        Assert.Equal(child.Fpu.Perm.StateSize, child.Fpu.FpState.Size);
        Assert.Equal(0UL, child.Fpu.FpState.Xfd & XFeatureMasks.XtileData);

        // d. A grandchild inherits the permission (and the sigaltstack) and can load tile data.
        var grand = k.Fork(child);
        Assert.Equal(child.SasSsSize, grand.SasSsSize);
        k.Schedule(0, grand);
        Assert.True(k.UseComponent(grand, 18, Tiles(k, rng)).Done);
        Assert.Empty(grand.Signals);
        KernelKit.AssertInvariants(k, cpu);
    }

    [Theory]
    [MemberData(nameof(Cpus))]
    public void Tile_data_is_not_inherited_across_fork(string cpu)
    {
        var (k, main) = Start(cpu);
        Assert.Equal(0, k.ArchPrctlRequest(main, 18));
        var child = ForkOn(k, main, 1);
        var tiles = Tiles(k, new Random(7));
        Assert.True(k.UseComponent(child, 18, tiles).Done);
        var grand = ForkOn(k, child, 0);
        // The grandchild's XSAVE of tile data differs from what its parent loaded: it is in init state.
        var seen = k.ReadComponent(grand, 18).ToArray();
        Assert.NotEqual(tiles, seen);
        Assert.All(seen, b => Assert.Equal(0, b));
        Assert.Equal(0UL, grand.Fpu.FpState.XstateBv & XFeatureMasks.XtileData);
        // ... but it may load its own (permission inherited).
        Assert.True(k.UseComponent(grand, 18, tiles).Done);
        // The parent still has its tiles after all the switching.
        k.Schedule(1, child);
        Assert.Equal(tiles, k.ReadComponent(child, 18).ToArray());
        KernelKit.AssertInvariants(k, cpu);
    }

    [Theory]
    [MemberData(nameof(Cpus))]
    public void Threads_share_the_leaders_permission_but_not_a_copy(string cpu)
    {
        var (k, main) = Start(cpu);
        var th = k.Fork(main, thread: true);
        Assert.Equal(0, k.ArchPrctlRequest(th, 18));
        Assert.NotEqual(0UL, main.Fpu.Perm.StatePerm & XFeatureMasks.XtileData);
        Assert.Equal(0UL, th.Fpu.Perm.StatePerm & XFeatureMasks.XtileData); // only the leader's copy counts
        k.Schedule(1, th);
        Assert.True(k.UseComponent(th, 18, Tiles(k, new Random(3))).Done);
        // Exec drops the permission.
        k.Exec(main);
        Assert.Equal(0UL, k.ArchPrctlGet(main, ArchPrctl.GetXcompPerm) & XFeatureMasks.XtileData);
        Assert.Equal(TaskState.Dead, th.State);
        KernelKit.AssertInvariants(k, cpu);
    }
}
