using XsaveLab.Kvm.Migration;
namespace XsaveLab.Kvm.Tests;

/// <summary><c>compat</c>: verdicts from the two CPUs' CPUID leaf 0xD, and the common guest template.</summary>
public class MigrationTests
{
    [Fact]
    public void Icx_to_genoa_snapshot_moves_exactly_the_avx512_and_pkru_components()
    {
        var icx = CpuCatalog.Get("icx");
        var genoa = CpuCatalog.Get("zen4-genoa");
        var r = MigrationCheck.Check(icx, genoa);
        var snap = r.Verdict(MigrationPath.KvmSnapshot);
        Assert.False(snap.Compatible);
        Assert.Equal(XFeatureMasks.Avx512 | XFeatureMasks.Pkru, snap.Components);
        // The rows carry the dumps' own CPUID(0xD,i) EBX: 1088→832, 1152→896, 1664→1408, 2688→2432.
        foreach (var (nr, from, to) in new[] { (5, 1088, 832), (6, 1152, 896), (7, 1664, 1408), (9, 2688, 2432) })
        {
            var row = r.Components.Single(c => c.Number == nr);
            Assert.Equal((int)icx.Leaf(0xD, (uint)nr).Ebx, row.From!.Value.Offset);
            Assert.Equal((int)genoa.Leaf(0xD, (uint)nr).Ebx, row.To!.Value.Offset);
            Assert.Equal((from, to), (row.From!.Value.Offset, row.To!.Value.Offset));
            Assert.Contains(snap.Reasons, s => s.Contains($"{from} on icx, {to} on zen4-genoa", StringComparison.Ordinal));
        }
        // Named-register migration only needs the features: genoa has them all.
        Assert.True(r.Verdict(MigrationPath.NamedRegisters).Compatible);
        Assert.False(r.Verdict(MigrationPath.Process).Compatible);
    }

    [Fact]
    public void Spr_to_emr_is_compatible_every_way()
    {
        var r = MigrationCheck.Check(CpuCatalog.Get("spr"), CpuCatalog.Get("emr"));
        Assert.All(r.Verdicts, v => Assert.True(v.Compatible, $"{v.Path}: {string.Join("; ", v.Reasons)}"));
        Assert.All(r.Components, c => Assert.True(c.SameLayout, c.Name));
    }

    /// <summary>The expectation comes from the two dumps' sub-leaves alone: every component KVM may give a guest on
    /// milan (0xD.0 EAX/EDX, 0xD.1 ECX/EDX within KVM's masks) must be enumerated on genoa with the same EAX, EBX and
    /// ECX[1].</summary>
    [Fact]
    public void Milan_to_genoa_snapshot_verdict_follows_the_two_dumps()
    {
        var milan = CpuCatalog.Get("zen3-milan");
        var genoa = CpuCatalog.Get("zen4-genoa");
        var r = MigrationCheck.Check(milan, genoa);
        ulong guest = r.From.GuestXcr0 | r.From.GuestXss;
        Assert.NotEqual(0UL, guest & XFeatureMasks.Ymm); // the check below is not vacuous
        bool expected = true;
        for (uint i = 2; i < 63; i++)
        {
            if ((guest >> (int)i & 1) == 0)
                continue;
            var a = milan.Leaf(0xD, i);
            var b = genoa.Leaf(0xD, i);
            bool onB = ((genoa.Leaf(0xD, 0).Eax | (ulong)genoa.Leaf(0xD, 0).Edx << 32 | genoa.Leaf(0xD, 1).Ecx | (ulong)genoa.Leaf(0xD, 1).Edx << 32) >> (int)i & 1) != 0;
            if (!onB || a.Eax != b.Eax || a.Ebx != b.Ebx || (a.Ecx & 2) != (b.Ecx & 2))
                expected = false;
        }
        Assert.Equal(expected, r.Verdict(MigrationPath.KvmSnapshot).Compatible);
    }

    [Fact]
    public void Common_template_of_the_catalog_has_one_layout_and_cannot_grow()
    {
        var hosts = CpuCatalog.All.Where(c => c.HasXsave).ToArray();
        var t = GuestTemplates.Common(hosts);
        Assert.True(GuestTemplates.Fits(t.Hosts, t.Xcr0, t.Xss));
        // Identical layout: each component at the same standard offset, size and alignment on every host.
        for (int i = 0; i < 63; i++)
            if (((t.Xcr0 | t.Xss) >> i & 1) != 0)
                Assert.Single(hosts.Select(h => ComponentGeometry.Of(h, i)).Distinct());
        Assert.Single(hosts.Select(h => XStateGeometry.Size(h, t.Xcr0, compacted: false)).Distinct());
        // No component (nor the groups XSETBV wants together) can be added.
        var candidates = Enumerable.Range(2, 61).Select(i => 1UL << i)
            .Concat([XFeatureMasks.Avx512, XFeatureMasks.Avx512 | XFeatureMasks.Ymm, XFeatureMasks.Mpx, XFeatureMasks.Xtile, XFeatureMasks.CetUser | XFeatureMasks.CetKernel]);
        foreach (var add in candidates)
        {
            if (((t.Xcr0 | t.Xss) & add) == add)
                continue;
            ulong user = add & ~XFeatureTable.MaskOf(f => f.IsSupervisor);
            Assert.False(GuestTemplates.Fits(t.Hosts, t.Xcr0 | user, t.Xss | (add & ~user)), $"0x{add:x} could be added");
        }
        // The template's CPUID enumerates exactly the template.
        Assert.Equal(t.Xcr0, t.Cpuid.SupportedXcr0);
        Assert.Equal(t.Xss, t.Cpuid.SupportedXss);
    }

    [Fact]
    public void Template_vmm_line_gives_the_template_on_every_host()
    {
        var hosts = new[] { "spr", "icx", "zen4-genoa", "zen3-milan" }.Select(CpuCatalog.Get).ToArray();
        var t = GuestTemplates.Common(hosts);
        Assert.NotEqual(XFeatureMasks.FpSse, t.Xcr0); // AVX at least is common here
        var script = VmmScript.Parse($"KVM_GET_SUPPORTED_CPUID\n{t.VmmLine}\n", "template");
        var exposure = ((VmmCall.SetCpuid2)script.Lines[1].Call).Exposure;
        foreach (var h in hosts)
        {
            var sys = TestCpus.System(h);
            var d0 = exposure.Apply(sys.GetSupportedCpuid()).Single(e => e.Function == 0xD && e.Index == 0);
            Assert.Equal(t.Xcr0, d0.Eax | (ulong)d0.Edx << 32);
        }
    }

    [Fact]
    public void Template_cpuid_clears_the_gates_of_dropped_components()
    {
        var t = GuestTemplates.Common([CpuCatalog.Get("spr"), CpuCatalog.Get("zen3-milan")]);
        Assert.Equal(0UL, t.Xcr0 & XFeatureMasks.Avx512);
        Assert.False(t.Cpuid.Has(CpuFeature.Avx512F));
        Assert.Equal(0u, t.Cpuid.Leaf(0xD, 5).Eax);
        Assert.Equal(XStateGeometry.Size(t.Cpuid, t.Xcr0, compacted: false), (int)t.Cpuid.Leaf(0xD, 0).Ecx);
    }
}
