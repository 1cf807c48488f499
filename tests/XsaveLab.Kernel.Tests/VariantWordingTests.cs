namespace XsaveLab.Kernel.Tests;

/// <summary>What the variant table says of each kernel, against the patches it cites.</summary>
public class VariantWordingTests
{
    [Theory]
    [InlineData("v3")]
    [InlineData("v4")]
    public void Series_v3_and_v4_name_component_12_without_kvm_only(string name)
    {
        // print_xstate_features(): the v3/v4 3/8 patch renamed "(unused)" to the plain name.
        var sys = FpuSystem.Boot(CpuCatalog.Get("spr"), KernelVariants.Get(name));
        Assert.Contains("x86/fpu: Supporting XSAVE feature 0x1000: 'Control-flow Kernel registers'", sys.Dmesg);
        Assert.DoesNotContain(KernelVariants.Get(name).Differences, d => d.Behaviour.Contains("(KVM only)", StringComparison.Ordinal) && !d.Behaviour.Contains("no '(KVM only)'", StringComparison.Ordinal));
    }

    [Fact]
    public void Host_default_mask_credits_151bf232_for_the_guest_supervisor_exclusion()
    {
        var d = KernelVariants.V6_17.Differences.Single(x => x.Aspect == "default features");
        Assert.Contains("151bf232494d", d.Source, StringComparison.Ordinal);
        Assert.Contains("7bc4ed75f2d6", d.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Fpu_guest_perm_of_6_15_is_the_guest_permission_at_allocation()
    {
        // fpu_init_guest_permissions() overwrites what fpu_alloc_guest_fpstate() stored first.
        var d = KernelVariants.V6_15.Differences.Single(x => x.Aspect == "fpu_guest");
        Assert.Contains("fpu_init_guest_permissions()", d.Behaviour, StringComparison.Ordinal);
        Assert.DoesNotContain("kernel default features", d.Behaviour, StringComparison.Ordinal);
        var k = new LinuxKernel(FpuSystem.Boot(CpuCatalog.Get("spr"), KernelVariants.V6_15), cpuCount: 1);
        var t = k.SpawnProcess("vmm");
        var g = k.FpuAllocGuestFpstate(t);
        Assert.Equal(t.Leader.Fpu.GuestPerm.StatePerm & ~FpuSystem.GuestPermLocked, g.Perm);
    }

    [Fact]
    public void Case3_does_not_claim_every_xsaves_writes_cet_s()
    {
        var d = KernelVariants.Case3.Differences.Single(x => x.Aspect == "default features");
        Assert.DoesNotContain("saved by every XSAVES", d.Behaviour, StringComparison.Ordinal);
        Assert.Contains("init", d.Behaviour, StringComparison.Ordinal);
    }
}
