namespace XsaveLab.Kernel.Tests;

/// <summary>The bugs the CET supervisor series fixed, reproduced by the older variants and absent in 6.17.</summary>
public class SeriesBugTests
{
    public static IEnumerable<object[]> AmxCpus() => KernelKit.AmxCpus();

    private static (LinuxKernel K, KernelTask T) Start(CpuProfile cpu, KernelVariant v)
    {
        var k = new LinuxKernel(FpuSystem.Boot(cpu, v), 2);
        var t = k.SpawnProcess("qemu");
        k.Schedule(0, t);
        return (k, t);
    }

    /// <summary>d8414603b29f "x86/fpu/xstate: Always preserve non-user xfeatures/flags in __state_perm" (6.16).</summary>
    [SkippableTheory]
    [MemberData(nameof(AmxCpus))]
    public void State_perm_loses_supervisor_bits_on_a_request_before_d8414603(string cpu)
    {
        var profile = TestEnv.CatalogCpu(cpu);
        foreach (var v in new[] { KernelVariants.V6_15, KernelVariants.V6_16, KernelVariants.V6_17 })
        {
            var (k, t) = Start(profile, v);
            ulong supervisor = k.System.KernelCfg.DefaultFeatures & ~XFeatureMasks.UserSupported;
            Skip.If(supervisor == 0, $"{cpu} has no supervisor features in its default set");
            Assert.Equal(supervisor, t.Fpu.Perm.StatePerm & supervisor);
            ulong userView = k.ArchPrctlGet(t, ArchPrctl.GetXcompPerm);

            Assert.Equal(0, k.ArchPrctlRequest(t, 18));
            Assert.Equal(0, k.ArchPrctlRequest(t, 18, guest: true));
            // Userspace sees the same answer either way (GET masks with USER_SUPPORTED).
            Assert.Equal(userView | XFeatureMasks.XtileData, k.ArchPrctlGet(t, ArchPrctl.GetXcompPerm));
            if (v.StatePermPreservesNonUser)
            {
                Assert.Equal(supervisor, t.Fpu.Perm.StatePerm & supervisor);
                Assert.Equal(supervisor, t.Fpu.GuestPerm.StatePerm & supervisor);
            }
            else
            {
                Assert.Equal(0UL, t.Fpu.Perm.StatePerm & ~XFeatureMasks.UserSupported);
                Assert.Equal(0UL, t.Fpu.GuestPerm.StatePerm & ~XFeatureMasks.UserSupported);
            }
            KernelKit.AssertInvariants(k, $"{cpu}/{v.Name}");
        }
    }

    /// <summary>d8414603b29f and 7c2c89364d92 "x86/fpu: Initialize guest FPU permissions from guest defaults":
    /// after an AMX guest-permission request the guest permission no longer covers the supervisor state the
    /// guest fpstate holds (6.15); 6.17's guest permission covers all of it, CET_KERNEL included.</summary>
    [Theory]
    [MemberData(nameof(AmxCpus))]
    public void Guest_permission_covers_guest_state_after_an_AMX_request_only_after_the_fixes(string cpu)
    {
        var profile = TestEnv.CatalogCpu(cpu);
        foreach (var v in new[] { KernelVariants.V6_15, KernelVariants.V6_17 })
        {
            var (k, t) = Start(profile, v);
            Assert.Equal(0, k.ArchPrctlRequest(t, 18, guest: true));
            var g = k.FpuAllocGuestFpstate(t);
            Assert.Equal(0, k.FpuEnableGuestXfdFeatures(t, g, XFeatureMasks.Xtile));
            var fps = g.FpState!;
            ulong perm = t.Fpu.GuestPerm.StatePerm & ~FpuSystem.GuestPermLocked;
            ulong uncovered = fps.Xfeatures & ~perm;
            if (v == KernelVariants.V6_15)
            {
                Assert.NotEqual(0UL, uncovered);
                Assert.Equal(0UL, uncovered & XFeatureMasks.UserSupported);
            }
            else
            {
                Assert.Equal(0UL, uncovered);
                Assert.NotEqual(0UL, fps.Xfeatures & XFeatureMasks.CetKernel);
                Assert.Equal(k.System.CalculateSize(fps.Xfeatures, true), fps.Size);
            }
            KernelKit.AssertInvariants(k, $"{cpu}/{v.Name}");
        }
    }

    /// <summary>7c2c89364d92: with CET_KERNEL guest-only but guest_perm still copied from perm, the guest buffer
    /// reallocated for AMX is sized without CET_KERNEL's 24 bytes. On the catalog's AMX parts the 64-byte
    /// alignment of the tile components happens to absorb them, so this runs on a hypothetical part derived
    /// from each: the same CPUID with the tile components not 64-byte aligned (CPUID(0xD,17/18).ECX[1] = 0).</summary>
    [Theory]
    [MemberData(nameof(AmxCpus))]
    public void Guest_buffer_for_AMX_is_too_small_without_7c2c8936(string cpu)
    {
        var real = TestEnv.CatalogCpu(cpu);
        var profile = new CpuProfile(real.Name + "-unaligned-tiles", "derived: CPUID(0xD,17/18).ECX[1] cleared",
            real.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf is 17 or 18 ? l with { Ecx = l.Ecx & ~2u } : l));
        var without = KernelVariants.V6_17 with { Name = "6.17-without-7c2c8936", GuestPerm = GuestPermSource.CopyOfPerm };

        foreach (var (v, broken) in new[] { (without, true), (KernelVariants.V6_17, false) })
        {
            var (k, t) = Start(profile, v);
            Assert.Equal(0, k.ArchPrctlRequest(t, 18, guest: true));
            var g = k.FpuAllocGuestFpstate(t);
            Assert.Equal(0, k.FpuEnableGuestXfdFeatures(t, g, XFeatureMasks.Xtile));
            var fps = g.FpState!;
            int need = k.System.CalculateSize(fps.Xfeatures, true);
            k.FpuSwapKvmFpstate(t, g, enterGuest: true);
            Assert.True(k.UseComponent(t, 18, KernelKit.RandomData(k, 18, new Random(5))).Done);
            k.FpuSwapKvmFpstate(t, g, enterGuest: false);
            if (broken)
            {
                Assert.Equal(k.System.FeatureSize((int)XFeature.CetKernel), need - fps.Size);
                Assert.Contains(k.Violations, m => m.Contains("needs", StringComparison.Ordinal));
            }
            else
            {
                Assert.Equal(need, fps.Size);
                KernelKit.AssertInvariants(k, v.Name);
            }
        }
    }

    /// <summary>32d5fa804dc9 "x86/fpu: Drop @perm from guest pseudo FPU container" (6.16).</summary>
    [Fact]
    public void Fpu_guest_perm_field_exists_only_before_32d5fa80()
    {
        foreach (var v in KernelVariants.Main)
        {
            var (k, t) = Start(TestEnv.CatalogCpu("spr"), v);
            var g = k.FpuAllocGuestFpstate(t);
            Assert.Equal(v.FpuGuestHasPerm, g.Perm.HasValue);
            Assert.Equal(v == KernelVariants.V6_15, g.Perm.HasValue);
        }
    }

    /// <summary>8b05b3c98816 / 151bf232494d / 509e880b7795: host fpstates never hold CET_KERNEL, guest fpstates
    /// always do (6.17); case 3 puts it in every task; 6.15/6.16 nowhere.</summary>
    [SkippableTheory]
    [InlineData("spr")]
    [InlineData("tgl")]
    [InlineData("adl")]
    public void Cet_kernel_placement_per_variant(string cpu)
    {
        foreach (var v in KernelVariants.Main)
        {
            var (k, t) = Start(TestEnv.CatalogCpu(cpu), v);
            bool cpuHas = (k.System.Profile.SupportedXss & XFeatureMasks.CetKernel) != 0 && k.System.Caps.Has(CpuFeature.Shstk);
            Skip.IfNot(cpuHas, $"{cpu} has no CET supervisor state");
            var g = k.FpuAllocGuestFpstate(t);
            bool host = (t.Fpu.FpState.Xfeatures & XFeatureMasks.CetKernel) != 0;
            bool guest = (g.FpState!.Xfeatures & XFeatureMasks.CetKernel) != 0;
            Assert.Equal(v.Name == "case3", host);
            Assert.Equal(v.Name is "6.17" or "case3", guest);
            Assert.Equal(v.CetKernelSupported, (k.System.Xss & XFeatureMasks.CetKernel) != 0);
            // deferred: CET_KERNEL is added by reallocation when the guest gets CET.
            if (v.DeferredGuestSupervisor)
            {
                Assert.Equal(0, k.FpuEnableGuestXfdFeatures(t, g, XFeatureMasks.CetKernel));
                Assert.NotEqual(0UL, g.FpState!.Xfeatures & XFeatureMasks.CetKernel);
                Assert.Equal(k.System.GuestDefaultCfg.Size + 0, k.System.KernelCfg.DefaultSize);
            }
            KernelKit.AssertInvariants(k, $"{cpu}/{v.Name}");
        }
    }
}
