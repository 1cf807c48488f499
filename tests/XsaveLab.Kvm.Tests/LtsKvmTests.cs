namespace XsaveLab.Kvm.Tests;

/// <summary>The KVM a long-term kernel runs with: its own release (KVM_CAP_XSAVE2 and guest permissions since 5.17,
/// no guest CET before 6.18, the stable backport of b45f72177594), unless a release is named.</summary>
public class LtsKvmTests
{
    [Fact]
    public void A_kernel_variant_pairs_with_its_release_and_a_named_one_overrides()
    {
        foreach (var v in KernelVariants.All)
        {
            var expected = KernelVariants.Lts.Contains(v) ? v.Name : "6.18";
            Assert.Equal(expected, KvmSettings.For(TestCpus.Get("spr"), v).Release.Name());
        }
        // A design file takes its parent's release, and with it the parent's KVM.
        var design = KernelVariantFile.Parse("name: my-6.6\nparent: \"6.6\"\nxsaveLayoutNote: true\n", "d.yaml");
        Assert.Equal(KvmRelease.Kvm606, KvmSettings.For(TestCpus.Get("spr"), design).Release);
        Assert.Equal(KvmRelease.Kvm618, KvmSettings.For(TestCpus.Get("spr"), KernelVariants.V6_6, KvmRelease.Kvm618).Release);
    }

    /// <summary>On an AMX + CET CPU: XSAVE2 larger than the legacy 4 KiB buffer once guest permission is granted
    /// (be50b2065dfa, 980fe2fddcff; 5.17), but no supervisor state (KVM_SUPPORTED_XSS = 0 before the 6.18 CET series)
    /// and no ONE_REG ioctls; the release's KVM under a 6.17 kernel gives the guest CET_U and CET_S.</summary>
    [Theory]
    [InlineData("6.1")]
    [InlineData("6.6")]
    [InlineData("6.12")]
    public void Lts_kvm_has_xsave2_and_guest_permissions_but_no_guest_cet(string kernel)
    {
        var cpu = TestCpus.Amx()!;
        var sys = new KvmSystem(KvmSettings.For(cpu, KernelVariants.Get(kernel)));
        Assert.True(sys.ArchPrctl(XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm, 18).Ok);
        Assert.True(sys.CheckExtension(KvmAbi.CapXsave2).Value > 4096);
        Assert.Equal(0UL, sys.Caps.SupportedXss);
        Assert.Equal(0L, sys.CheckExtension(KvmAbi.CapOneReg).Value);
        var landed = new KvmSystem(KvmSettings.For(cpu, KernelVariants.V6_17));
        Assert.Equal(XFeatureMasks.CetUser | XFeatureMasks.CetKernel, landed.Caps.SupportedXss);
    }

    /// <summary>The stable trees carry b45f72177594: KVM_SET_XSAVE with tile state the guest's XFD disables is
    /// cleaned instead of taking #NM in the host ("unexpected #NM exception", as 6.18.0 does).</summary>
    [Theory]
    [InlineData("6.1")]
    [InlineData("6.6")]
    [InlineData("6.12")]
    public void Lts_kvm_clears_xstate_bv_under_xfd_like_the_stable_backport(string kernel)
    {
        var sys = new KvmSystem(KvmSettings.For(TestCpus.Amx()!, KernelVariants.Get(kernel)));
        Assert.True(sys.Caps.Release.IsLts());
        var v = TestCpus.NewVcpu(sys);
        Assert.True(v.Run(TestCpus.Ops("cr4.osxsave", "xsetbv cpuid => ok", "ldtilecfg => ok", "tileloadd => ok")).ExpectationsMet);
        Assert.True(v.GetXsave2(out var withTiles).Ok);
        Assert.True(v.Run(TestCpus.Ops("wrmsr IA32_XFD 0x40000 => ok")).ExpectationsMet);
        Assert.True(v.SetXsave(withTiles).Ok);
        var run = v.Run([]);
        Assert.True(run.Result.Ok, run.Result.ToString());
        Assert.Empty(sys.Kernel.Oopses);
        Assert.True(v.GetXsave2(out var img).Ok);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv)) & XFeatureMasks.XtileData);
    }
}
