namespace XsaveLab.Kvm.Tests;

/// <summary>KVM's own CPUID math: xstate_required_size, kvm_get_filtered_xcr0, leaf 0xD, KVM_CAP_XSAVE2, device attr.</summary>
public class SupportedCpuidTests
{
    [Theory]
    [MemberData(nameof(TestCpus.Names), MemberType = typeof(TestCpus))]
    public void Xstate_required_size_agrees_with_the_layout_engine_for_random_masks(string name)
    {
        var cpu = TestCpus.Get(name);
        var caps = new KvmSystem(KvmSettings.For(cpu)).Caps;
        ulong all = cpu.SupportedXcr0 | cpu.SupportedXss;
        var bits = Enumerable.Range(2, 61).Where(i => (all >> i & 1) != 0 && cpu.Component(i) is not null).ToArray();
        int seed = XsaveLab.Tests.StableSeed.Of(name);
        var rng = new Random(seed);
        for (int n = 0; n < 300; n++)
        {
            ulong mask = XFeatureMasks.FpSse;
            foreach (var b in bits)
                if (rng.Next(2) == 1) mask |= 1UL << b;
            // Standard form only over user components (supervisor ones have no standard offset).
            ulong user = mask & cpu.SupportedXcr0;
            Assert.True(XStateGeometry.Size(cpu, user, false) == caps.XstateRequiredSize(user, false), $"seed {seed} mask 0x{user:x} standard");
            Assert.True(XStateGeometry.Size(cpu, mask, true) == caps.XstateRequiredSize(mask, true), $"seed {seed} mask 0x{mask:x} compacted");
        }
    }

    [Theory]
    [MemberData(nameof(TestCpus.NamesAndVariants), MemberType = typeof(TestCpus))]
    public void Leaf_d_follows_supported_xcr0_xss_and_permission(string name, string variant)
    {
        var cpu = TestCpus.Get(name);
        foreach (var release in new[] { KvmRelease.Kvm617, KvmRelease.Kvm618 })
        {
            var sys = TestCpus.System(cpu, variant, release);
            var caps = sys.Caps;
            for (int pass = 0; pass < 2; pass++)
            {
                var table = sys.GetSupportedCpuid();
                if (!cpu.HasLeafD)
                {
                    Assert.All(table.Where(e => e.Function == 0xD), e => Assert.Equal(0u, e.Eax));
                    break;
                }
                var d0 = table.Single(e => e.Function == 0xD && e.Index == 0);
                ulong x = d0.Eax | (ulong)d0.Edx << 32;
                ulong filtered = caps.FilteredXcr0(sys.GuestGroupPerm);
                Assert.Equal(filtered & cpu.SupportedXcr0, x);
                Assert.True((x & KvmCaps.KvmSupportedXcr0) == x);
                Assert.Equal((uint)XStateGeometry.Size(cpu, x, false), d0.Ebx);
                Assert.Equal(d0.Ebx, d0.Ecx);
                bool hasData = (x & XFeatureMasks.XtileData) != 0, hasCfg = (x & XFeatureMasks.XtileCfg) != 0;
                Assert.Equal(hasData, hasCfg);
                if (pass == 0)
                    Assert.False(hasData, "AMX before ARCH_REQ_XCOMP_GUEST_PERM");

                var d1 = table.Single(e => e.Function == 0xD && e.Index == 1);
                Assert.Equal(caps.SupportedXss & cpu.SupportedXss, d1.Ecx | (ulong)d1.Edx << 32);
                if (release == KvmRelease.Kvm617)
                    Assert.Equal(0u, d1.Ecx);
                if ((d1.Eax & 0xA) != 0)
                    Assert.Equal((uint)XStateGeometry.Size(cpu, x | caps.SupportedXss, true), d1.Ebx);
                else
                    Assert.Equal(0u, d1.Ebx);
                var subs = table.Where(e => e.Function == 0xD && e.Index >= 2).Select(e => (int)e.Index).ToHashSet();
                for (int i = 2; i < 63; i++)
                    Assert.Equal(((x | caps.SupportedXss) >> i & 1) != 0 && cpu.Component(i) is not null, subs.Contains(i));

                var l7 = table.Single(e => e.Function == 7);
                Assert.Equal(caps.Shstk, (l7.Ecx & (1u << 7)) != 0);
                Assert.Equal(caps.Ibt, (l7.Edx & (1u << 20)) != 0);
                // CET is offered only with the CET pair in supported XSS (kvm_setup_xss_caps, 6.18).
                Assert.Equal(caps.Shstk || caps.Ibt, (caps.SupportedXss & KvmCaps.CetAll) == KvmCaps.CetAll);
                Assert.Equal((ulong)d0.Eax | (ulong)d0.Edx << 32, x);
                sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestCpus.Names), MemberType = typeof(TestCpus))]
    public void Xsave2_size_depends_on_the_callers_guest_permission(string name)
    {
        var cpu = TestCpus.Get(name);
        var sys = TestCpus.System(cpu);
        ulong before = sys.Caps.FilteredXcr0(sys.GuestGroupPerm);
        int expectBefore = Math.Max(sys.Host.XsaveEnabled ? XStateGeometry.Size(cpu, before, false) : 0, 4096);
        Assert.Equal(expectBefore, sys.CheckExtension(KvmAbi.CapXsave2).Value);
        var r = sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
        bool amx = (sys.Host.UserMaxFeatures & XFeatureMasks.XtileData) != 0;
        Assert.Equal(amx, r.Ok);
        if (!amx)
            Assert.Equal(Errno.EOPNOTSUPP, r.Errno);
        ulong after = sys.Caps.FilteredXcr0(sys.GuestGroupPerm);
        Assert.Equal(Math.Max(sys.Host.XsaveEnabled ? XStateGeometry.Size(cpu, after, false) : 0, 4096), sys.CheckExtension(KvmAbi.CapXsave2).Value);
        var vm = sys.CreateVm();
        Assert.Equal(sys.CheckExtension(KvmAbi.CapXsave2).Value, vm.CheckExtension(KvmAbi.CapXsave2).Value);
        if (amx)
        {
            // amx_test: the tile data component ends the standard area.
            var t = cpu.Component(18)!.Value;
            Assert.Equal(t.StandardOffset!.Value + t.Size, sys.CheckExtension(KvmAbi.CapXsave2).Value);
        }
        // KVM_X86_XCOMP_GUEST_SUPP is not filtered by permission.
        var attr = new KvmSystem(KvmSettings.For(cpu)).GetDeviceAttr(0, KvmAbi.XcompGuestSupp);
        Assert.Equal(sys.Caps.SupportedXcr0, (ulong)attr.Value);
        Assert.Equal(Errno.ENXIO, sys.GetDeviceAttr(0, 1).Errno);
    }

    [Fact]
    public void Filtered_xcr0_drops_tilecfg_together_with_tiledata()
    {
        var cpu = TestCpus.Amx()!;
        var caps = TestCpus.System(cpu).Caps;
        Assert.Equal(0UL, caps.FilteredXcr0(0xFFFF) & XFeatureMasks.Xtile);
        Assert.Equal(XFeatureMasks.Xtile, caps.FilteredXcr0(ulong.MaxValue) & XFeatureMasks.Xtile);
        Assert.Equal(0UL, caps.FilteredXcr0(XFeatureMasks.XtileCfg | 0xFF) & XFeatureMasks.Xtile);
    }

    [Theory]
    [MemberData(nameof(TestCpus.Names), MemberType = typeof(TestCpus))]
    public void Cet_needs_kvm_618_and_a_kernel_with_guest_cet_s(string name)
    {
        var cpu = TestCpus.Get(name);
        bool hwCet = cpu.HasXsaves && cpu.Has(CpuFeature.Shstk) && (cpu.SupportedXss & KvmCaps.CetAll) == KvmCaps.CetAll;
        foreach (var v in KernelVariants.Main)
        {
            var c18 = TestCpus.System(cpu, v.Name, KvmRelease.Kvm618).Caps;
            var c17 = TestCpus.System(cpu, v.Name, KvmRelease.Kvm617).Caps;
            Assert.False(c17.Shstk || c17.Ibt);
            Assert.Equal(0UL, c17.SupportedXss);
            Assert.Equal(hwCet && v.CetKernelSupported, c18.Shstk);
            if (hwCet && !v.CetKernelSupported)
                Assert.Contains(c18.Notes, n => n.Contains("manual switching", StringComparison.Ordinal));
            var list = c18.MsrsToSave();
            Assert.Equal(c18.Shstk, list.Contains(Arch.Machine.Msr.IA32_PL0_SSP));
            Assert.Equal(c18.SupportedXss != 0, list.Contains(Arch.Machine.Msr.IA32_XSS));
        }
    }
}
