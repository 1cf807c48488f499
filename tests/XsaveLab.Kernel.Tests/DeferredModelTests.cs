namespace XsaveLab.Kernel.Tests;

/// <summary>The review's deferred alternative (Chang S. Bae on v3 9/10) against the landed static model.</summary>
public class DeferredModelTests
{
    [Theory]
    [InlineData("tgl")]
    [InlineData("zen5-turin")]
    [InlineData("spr")]
    public void Cet_guests_end_up_with_the_same_buffer_but_deferred_pays_a_reallocation(string cpu)
    {
        var landed = KernelKit.Kernel(cpu, "6.17", 1);
        var deferred = KernelKit.Kernel(cpu, "deferred", 1);
        ulong cetS = landed.System.KernelCfg.MaxFeatures & XFeatureMasks.CetKernel;
        Assert.NotEqual(0UL, cetS);
        var (t1, t2) = (landed.SpawnProcess("vcpu"), deferred.SpawnProcess("vcpu"));
        landed.Schedule(0, t1);
        deferred.Schedule(0, t2);
        var g1 = landed.FpuAllocGuestFpstate(t1);
        var g2 = deferred.FpuAllocGuestFpstate(t2);
        // At creation the deferred vCPU is a host-sized buffer without CET_S.
        Assert.Equal(deferred.System.KernelCfg.DefaultSize, g2.FpState!.Size);
        Assert.Equal(0UL, g2.FpState.Xfeatures & cetS);
        Assert.Equal(landed.System.GuestDefaultCfg.Size, g1.FpState!.Size);
        // KVM_SET_CPUID2 exposing CET: 6.17 has nothing to do, deferred reallocates.
        Assert.Equal(0, landed.FpuEnableGuestXfdFeatures(t1, g1, cetS));
        Assert.Equal(0, deferred.FpuEnableGuestXfdFeatures(t2, g2, cetS));
        Assert.Equal(0, landed.Counters.Reallocations);
        Assert.Equal(1, deferred.Counters.Reallocations);
        Assert.Equal(g1.FpState.Size, g2.FpState!.Size);
        Assert.Equal(g1.FpState.Xfeatures, g2.FpState.Xfeatures);
        Assert.Equal(0UL, g2.FpState.UserXfeatures & cetS); // supervisor state never becomes UABI state
        // Host tasks are identical under both.
        Assert.Equal(landed.System.KernelCfg.DefaultSize, deferred.System.KernelCfg.DefaultSize);
        KernelKit.AssertInvariants(landed);
        KernelKit.AssertInvariants(deferred);
    }
}
