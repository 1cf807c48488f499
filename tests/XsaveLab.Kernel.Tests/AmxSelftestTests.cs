using XsaveLab.Arch.Features;
using XsaveLab.Kernel.Tasks;
using XsaveLab.Kernel.Abi;

namespace XsaveLab.Kernel.Tests;

/// <summary>tools/testing/selftests/x86/amx.c (linux-fpu.md §10.1) on the catalog's AMX parts.</summary>
public class AmxSelftestTests
{
    public static IEnumerable<object[]> Cpus() => KernelKit.AmxCpus();

    private static byte[] Tiles(LinuxKernel k, Random rng) => KernelKit.RandomData(k, (int)XFeature.XtileData, rng);

    [Theory]
    [MemberData(nameof(Cpus))]
    public void Dynamic_state_permission_sigaltstack_and_fork(string cpu)
    {
        var k = KernelKit.Kernel(cpu, cpus: 2);
        var rng = new Random(18);
        var main = k.SpawnProcess("amx");
        k.Schedule(0, main);
        // Setup: ARCH_GET_XCOMP_SUPP shows both tile bits.
        Assert.Equal(XFeatureMasks.Xtile, k.ArchPrctlGet(main, ArchPrctl.GetXcompSupp) & XFeatureMasks.Xtile);

        var child = k.Fork(main);
        k.Schedule(1, child);

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
        var k = KernelKit.Kernel(cpu, cpus: 2);
        var rng = new Random(7);
        var main = k.SpawnProcess("amx");
        k.Schedule(0, main);
        Assert.Equal(0, k.ArchPrctlRequest(main, 18));
        var child = k.Fork(main);
        k.Schedule(1, child);
        var tiles = Tiles(k, rng);
        Assert.True(k.UseComponent(child, 18, tiles).Done);
        var grand = k.Fork(child);
        k.Schedule(0, grand);
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
        var k = KernelKit.Kernel(cpu, cpus: 2);
        var main = k.SpawnProcess("amx");
        k.Schedule(0, main);
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
