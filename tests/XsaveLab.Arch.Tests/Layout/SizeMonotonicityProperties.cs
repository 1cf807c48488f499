using FsCheck;
using FsCheck.Fluent;
namespace XsaveLab.Arch.Tests.Layout;

/// <summary>Adding components never shrinks an area, in either form (FsCheck properties over the catalog).</summary>
public class SizeMonotonicityProperties
{
    private static readonly Gen<(string Cpu, ulong Small, ulong Extra)> Cases =
        from cpu in Gen.Elements(CpuCatalog.All.Where(p => p.HasXsavec).Select(p => p.Name).ToArray())
        from a in ArbMap.Default.GeneratorFor<ulong>()
        from b in ArbMap.Default.GeneratorFor<ulong>()
        select (cpu, a, b);

    [Fact]
    public void Size_GrowsWithTheMask_InBothForms()
    {
        Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var p = CpuCatalog.Get(c.Cpu);
            ulong all = p.SupportedXcr0 | (p.HasXsaves ? p.SupportedXss : 0);
            ulong small = (c.Small & all) | XFeatureMasks.FpSse;
            ulong big = small | (c.Extra & all);
            return XStateGeometry.Size(p, small, true) <= XStateGeometry.Size(p, big, true)
                && XStateGeometry.Size(p, small, false) <= XStateGeometry.Size(p, big, false);
        }).CheckSeeded(0x5125_0001);
    }

    [Fact]
    public void CompactedOffset_NeverPassesTheStandardOne_WhenStandardOffsetsFollowNumberOrder()
    {
        // True on every catalog CPU (no APX yet); a compacted area only removes gaps and pads to 64.
        Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var p = CpuCatalog.Get(c.Cpu);
            ulong x = (c.Small & p.SupportedXcr0) | XFeatureMasks.FpSse;
            var v = LayoutView.Create(p, x, 0);
            return v.Components.All(r => r.CompactedOffset <= r.StandardOffset);
        }).CheckSeeded(0x5125_0002);
    }
}
