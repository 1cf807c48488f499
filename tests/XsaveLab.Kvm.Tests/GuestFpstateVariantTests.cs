namespace XsaveLab.Kvm.Tests;

/// <summary>The system of the series: a vCPU's fpstate carries CET-S that host tasks never allocate.</summary>
public class GuestFpstateVariantTests
{
    public static IEnumerable<object[]> CetCpus() =>
        CpuCatalog.All.Where(c => c.HasXsaves && c.Has(CpuFeature.Shstk) && (c.SupportedXss & XFeatureMasks.CetKernel) != 0)
            .Select(c => new object[] { c.Name });

    [Fact]
    public void The_catalog_has_cpus_with_cet() => Assert.NotEmpty(CetCpus());

    [Theory]
    [MemberData(nameof(CetCpus))]
    public void Under_617_vcpu_minus_host_task_size_is_the_cet_s_slot_with_alignment(string name)
    {
        var cpu = TestCpus.Get(name);
        var sys = TestCpus.System(cpu, "6.17");
        var host = sys.Host;
        var (_, vcpu) = sys.CreateVm().CreateVcpu(0);
        var g = vcpu!.Fpu.FpState!;
        Assert.Equal(host.KernelDefaultFeatures | XFeatureMasks.CetKernel, g.Xfeatures);
        int slot = XStateGeometry.Size(cpu, host.KernelDefaultFeatures | XFeatureMasks.CetKernel, true) - XStateGeometry.Size(cpu, host.KernelDefaultFeatures, true);
        Assert.Equal(slot, g.Size - host.KernelDefaultSize);
        // The slot is the component's size unless a later 64-byte aligned component absorbs it.
        int cetSize = cpu.Component(12)!.Value.Size;
        bool alignedAfter = Enumerable.Range(13, 50).Any(i => (host.KernelDefaultFeatures >> i & 1) != 0 && cpu.Component(i) is { Aligned64: true });
        if (!alignedAfter)
            Assert.Equal(cetSize, slot);
        else
            Assert.InRange(slot, 0, cetSize + 63);
        Assert.Equal(g.Xfeatures | XFeatureMasks.CompactedFormat, g.XcompBv);
    }

    [Theory]
    [MemberData(nameof(CetCpus))]
    public void Guest_xcomp_bv_always_has_bit_12_host_fpstates_never(string name)
    {
        var cpu = TestCpus.Get(name);
        var sys = TestCpus.System(cpu, "6.17");
        var v = TestCpus.NewVcpu(sys);
        var task = sys.Task.Fpu.EmbeddedFpState;
        void Check(string when)
        {
            Assert.True((v.Fpu.FpState!.XcompBv & XFeatureMasks.CetKernel) != 0, $"guest XCOMP_BV lacks bit 12 {when}");
            Assert.Same(task, sys.Task.Fpu.FpState);
            Assert.True((task.XcompBv & XFeatureMasks.CetKernel) == 0, $"host XCOMP_BV has bit 12 {when}");
            Assert.True((task.XstateBv & XFeatureMasks.CetKernel) == 0, $"host XSTATE_BV has bit 12 {when}");
            Assert.True((task.Xfeatures & XFeatureMasks.CetKernel) == 0, $"host xfeatures has bit 12 {when}");
            Assert.Empty(sys.Kernel.Warnings.Entries);
        }
        Check("after KVM_SET_CPUID2");
        var r = v.Run(TestCpus.Ops("cr4.osxsave", "xsetbv cpuid", "wrmsr IA32_XSS cpuid => ok", "wrmsr IA32_PL0_SSP 0xffff800000002000 => ok", "write ymm"));
        Assert.True(r.ExpectationsMet && r.Result.Ok, string.Join("\n", r.Guest));
        Check("after KVM_RUN");
        Assert.True((v.Fpu.FpState!.XstateBv & XFeatureMasks.CetKernel) != 0, "PL0_SSP written: CET_S not in init state, XSAVES must record it");
        // The host registers got CET-S back to init when the host fpstate was restored.
        int cpl = sys.Cpu.Cpl;
        sys.Cpu.Cpl = 0;
        Assert.Equal(0, sys.Cpu.Rdmsr(Arch.Machine.Msr.IA32_PL0_SSP, out var pl0).IsFault ? 1 : 0);
        sys.Cpu.Cpl = cpl;
        Assert.Equal(0UL, pl0);
        Assert.Equal(1L, v.GetMsrs([Arch.Machine.Msr.IA32_PL0_SSP], out var vals).Value);
        Assert.Equal(0xffff800000002000UL, vals[0]);
        Check("after a host-initiated MSR read");
    }

    [Theory]
    [MemberData(nameof(CetCpus))]
    public void Under_615_and_616_the_guest_has_no_cet_s_slot(string name)
    {
        var cpu = TestCpus.Get(name);
        foreach (var variant in new[] { "6.15", "6.16" })
        {
            var sys = TestCpus.System(cpu, variant);
            var (_, v) = sys.CreateVm().CreateVcpu(0);
            Assert.Equal(0UL, v!.Fpu.FpState!.Xfeatures & XFeatureMasks.CetKernel);
            Assert.Equal(sys.Host.KernelDefaultSize, v.Fpu.FpState.Size);
            Assert.False(sys.Caps.Shstk, "KVM 6.18 needs the CET pair in host XSS");
            Assert.Contains(sys.Caps.Notes, n => n.Contains("manual switching", StringComparison.Ordinal));
            Assert.Equal(variant == "6.15", v.Fpu.Perm is not null);
        }
    }

    [Theory]
    [MemberData(nameof(CetCpus))]
    public void Case3_puts_cet_s_in_every_task_and_deferred_grows_the_guest_on_demand(string name)
    {
        var cpu = TestCpus.Get(name);
        var c3 = TestCpus.System(cpu, "case3");
        Assert.NotEqual(0UL, c3.Host.KernelDefaultFeatures & XFeatureMasks.CetKernel);
        var (_, v3) = c3.CreateVm().CreateVcpu(0);
        Assert.Equal(c3.Host.KernelDefaultSize, v3!.Fpu.FpState!.Size);

        var d = TestCpus.System(cpu, "deferred");
        var v = TestCpus.NewVcpu(d, requestAmx: false, setCpuid: false);
        Assert.Equal(0UL, v.Fpu.FpState!.Xfeatures & XFeatureMasks.CetKernel);
        Assert.True(v.SetCpuid2(d.GetSupportedCpuid()).Ok);
        Assert.NotEqual(0UL, v.Fpu.FpState!.Xfeatures & XFeatureMasks.CetKernel);
        Assert.Equal(XStateGeometry.Size(cpu, v.Fpu.FpState.Xfeatures, true), v.Fpu.FpState.Size);
        Assert.Equal(0UL, d.Host.KernelDefaultFeatures & XFeatureMasks.CetKernel);
    }

    [Theory]
    [MemberData(nameof(TestCpus.NamesAndVariants), MemberType = typeof(TestCpus))]
    public void Every_vcpu_fpstate_is_sized_for_its_features_and_amx_growth_needs_permission(string name, string variant)
    {
        var cpu = TestCpus.Get(name);
        var sys = TestCpus.System(cpu, variant);
        var (_, v) = sys.CreateVm().CreateVcpu(0);
        var f = v!.Fpu.FpState!;
        if (sys.Host.XsaveEnabled)
            Assert.Equal(XStateGeometry.Size(cpu, f.Xfeatures, sys.Host.Compacted), f.Size);
        Assert.Equal(4096, v.Fpu.UabiSize);
        Assert.True(sys.Task.Leader.Fpu.GuestPerm.GuestLocked);

        // A table with AMX from a permitted process, given to a vCPU of a process without permission: -EPERM.
        if ((sys.Host.UserMaxFeatures & XFeatureMasks.XtileData) != 0)
        {
            var other = TestCpus.System(cpu, variant);
            other.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
            var r = v.SetCpuid2(other.GetSupportedCpuid());
            Assert.Equal(Errno.EPERM, r.Errno);
            Assert.Equal(4096, v.Fpu.UabiSize);

            var ok = TestCpus.NewVcpu(other, requestAmx: false);
            Assert.NotEqual(0UL, ok.Fpu.FpState!.Xfeatures & XFeatureMasks.XtileData);
            Assert.Equal(XStateGeometry.Size(cpu, ok.Fpu.FpState.UserXfeatures, false), ok.Fpu.UabiSize);
            Assert.Equal(other.Task.Leader.Fpu.GuestPerm.StateSize, ok.Fpu.FpState.Size);
        }
    }

    [SkippableFact]
    public void Deferred_growth_takes_the_permitted_sizes_so_uabi_size_grows_without_amx_exposed()
    {
        // __xfd_enable_feature() reallocates to the permission's __state_size/__user_state_size: under the deferred
        // design, adding CET-S after an AMX guest permission sizes the buffer (and KVM_GET_XSAVE2) for AMX too.
        var cpu = TestCpus.Amx();
        Skip.If(cpu is null, "no catalog CPU with AMX");
        var sys = TestCpus.System(cpu!, "deferred");
        var noAmx = sys.GetSupportedCpuid();
        Assert.True(sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18).Ok);
        var (_, v) = sys.CreateVm().CreateVcpu(0);
        Assert.True(v!.SetCpuid2(noAmx).Ok);
        Assert.Equal(0UL, v.GuestSupportedXcr0 & XFeatureMasks.Xtile);
        Assert.NotEqual(0UL, v.Fpu.FpState!.Xfeatures & XFeatureMasks.CetKernel);
        Assert.Equal(sys.Task.Leader.Fpu.GuestPerm.StateSize, v.Fpu.FpState.Size);
        Assert.Equal(sys.Task.Leader.Fpu.GuestPerm.UserStateSize, v.Fpu.UabiSize);
        Assert.Equal(Errno.EINVAL, v.GetXsave(out _).Errno);

        // 6.17 allocates CET-S at creation: the same sequence keeps the 4096-byte UABI.
        var s17 = TestCpus.System(cpu!, "6.17");
        var t17 = s17.GetSupportedCpuid();
        s17.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
        var (_, v17) = s17.CreateVm().CreateVcpu(0);
        Assert.True(v17!.SetCpuid2(t17).Ok);
        Assert.Equal(4096, v17.Fpu.UabiSize);
    }
}
