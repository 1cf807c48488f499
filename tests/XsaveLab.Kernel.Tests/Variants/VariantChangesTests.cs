namespace XsaveLab.Kernel.Tests.Variants;

/// <summary>Each variant's neighbour and what it changes from it (<see cref="VariantChanges"/>), and the selection
/// of cited differences by what two boots show (<see cref="VariantEffectOnCpu"/>).</summary>
public sealed class VariantChangesTests
{
    [Fact]
    public void Every_variant_has_another_built_in_variant_as_neighbour_and_cited_changes_from_it()
    {
        foreach (var v in KernelVariants.All)
        {
            var c = VariantChanges.Of(v);
            Assert.NotNull(c.Neighbour);
            Assert.NotEqual(v.Name, c.Neighbour.Name);
            Assert.Contains(c.Neighbour, KernelVariants.All);
            Assert.True(c.Changes.Count > 0, $"{v.Name} changes nothing from {c.Neighbour.Name}");
            Assert.All(c.Changes, x => Assert.DoesNotContain(x.Difference, c.Neighbour.Differences));
            Assert.All(c.Changes, x => Assert.False(string.IsNullOrWhiteSpace(x.Difference.Source)));
        }
        Assert.Single(KernelVariants.All, v => VariantChanges.Of(v).Landed);
    }

    [Fact]
    public void The_landed_variant_has_no_effect_and_identical_boots_show_nothing()
    {
        var spr = CpuCatalog.Get("spr");
        Assert.Null(BootReport.Create(spr, KernelVariants.Default).Effect);
        var boot = BootReport.From(FpuSystem.Boot(spr, KernelVariants.V3));
        Assert.Empty(BootReport.Observe(boot, boot));
        var none = VariantEffectOnCpu.From(KernelVariants.V3, []);
        Assert.NotNull(none);
        Assert.True(none.Unchanged);
        Assert.Empty(none.Differences);
    }

    [Fact]
    public void Only_differences_whose_effect_shows_are_named()
    {
        // 6.15 on spr: the boot differs (component 12 unsupported), but fpu_guest.perm is never read and the
        // core-file note is not part of a boot, so neither is named.
        var e = BootReport.Create(CpuCatalog.Get("spr"), KernelVariants.V6_15).Effect!;
        Assert.Contains(e.Observed, o => o.Kind == VariantEffect.BootLog);
        Assert.Contains(e.Differences, d => d.Aspect == "component 12");
        Assert.DoesNotContain(e.Differences, d => d.Aspect == "fpu_guest");
        Assert.All(e.Differences, d => Assert.NotEqual(VariantEffect.None, d.Shows & e.Observed.Aggregate(VariantEffect.None, (k, o) => k | o.Kind)));
    }
}
