namespace XsaveLab.Arch.Tests.Layout;

/// <summary>Vendor layouts the SDM, AMD's APM and Xen's comments describe, checked on the catalog CPUs.</summary>
public class CatalogLayoutTests
{
    [Fact]
    public void Skx_IntelMpxEra_StandardOffsetsLeaveTheLwpHole()
    {
        var skx = CpuCatalog.Get("skx");
        var v = LayoutView.Create(skx);
        int Std(XFeature f) => v.Components.Single(c => c.Number == (int)f).StandardOffset!.Value;
        int avxEnd = Std(XFeature.Ymm) + 256;
        // Intel kept AMD's LWP area (832..959) free when it added MPX: BNDREGS starts at 960.
        Assert.Equal(960, Std(XFeature.BndRegs));
        Assert.True(Std(XFeature.BndRegs) > avxEnd);
        Assert.Equal(1024, Std(XFeature.BndCsr));
        Assert.Equal(1088, Std(XFeature.Opmask));
        Assert.Equal(1152, Std(XFeature.ZmmHi256));
        Assert.Equal(1664, Std(XFeature.Hi16Zmm));
        Assert.Equal(2688, Std(XFeature.Pkru));
        Assert.Equal(2696, v.StandardSize);
        // The compacted form has no hole: BNDREGS follows AVX directly.
        Assert.Equal(avxEnd, v.Components.Single(c => c.Number == (int)XFeature.BndRegs).CompactedOffset);
    }

    [Fact]
    public void Spr_XtileCfg_IsCompactedAtA64ByteBoundary_WithPadding()
    {
        var spr = CpuCatalog.Get("spr");
        var v = LayoutView.Create(spr);
        var rows = v.Components.Where(c => c.CompactedOffset is not null).OrderBy(c => c.CompactedOffset).ToList();
        int i = rows.FindIndex(c => c.Number == (int)XFeature.XtileCfg);
        var cfg = rows[i];
        var before = rows[i - 1];
        Assert.True(cfg.Aligned64);
        Assert.Equal(0, cfg.CompactedOffset!.Value % 64);
        int prevEnd = before.CompactedOffset!.Value + before.Size;
        Assert.NotEqual(0, prevEnd % 64); // the previous component does not end on a boundary …
        Assert.Equal((prevEnd + 63) & ~63, cfg.CompactedOffset); // … so the gap is exactly the padding
        var data = rows[i + 1];
        Assert.Equal(XFeature.XtileData, (XFeature)data.Number);
        Assert.Equal(0, data.CompactedOffset!.Value % 64);
        Assert.Equal(v.CompactedWithSupervisorSize, data.CompactedOffset + data.Size);
    }

    [Theory]
    [InlineData("zen4-raphael")]
    [InlineData("zen4-genoa")]
    [InlineData("zen5-turin")]
    public void Amd_NoMpxHole_OpmaskFollowsAvx(string name)
    {
        var p = CpuCatalog.Get(name);
        Assert.Equal(0UL, p.SupportedXcr0 & XFeatureMasks.Mpx);
        Assert.Equal(832, p.Component((int)XFeature.Opmask)!.Value.StandardOffset);
        Assert.Equal(576 + 256, p.Component((int)XFeature.Opmask)!.Value.StandardOffset);
    }

    [Theory]
    [InlineData("zen3-milan")]
    [InlineData("zen4-raphael")]
    [InlineData("zen4-genoa")]
    [InlineData("zen5-turin")]
    public void Amd_Zen3AndLater_PkruAt2432(string name)
    {
        var p = CpuCatalog.Get(name);
        var pkru = p.Component((int)XFeature.Pkru)!.Value;
        Assert.Equal(2432, pkru.StandardOffset);
        Assert.Equal(8, pkru.Size);
        Assert.Equal(2440, LayoutView.Create(p).StandardSize);
    }

    [Theory]
    [InlineData("zen2-matisse")]
    [InlineData("zen2-castle-peak")]
    public void Amd_Zen2_Pkru64ByteReport_IsFlaggedBySanity(string name)
    {
        var p = CpuCatalog.Get(name);
        Assert.Equal(64, p.Component((int)XFeature.Pkru)!.Value.Size);
        var f = Assert.Single(ProfileSanity.Check(p), x => x.Code == "COMPONENT_SIZE");
        Assert.Equal(FindingSeverity.Warning, f.Severity);
        Assert.Contains("PKRU", f.Message);
        Assert.Contains("64", f.Message);
        Assert.Contains("8", f.Message);
    }

    [Fact]
    public void Haswell_WithoutXsaves_HasOnlyTheStandardFormat()
    {
        var p = CpuCatalog.Get("haswell");
        Assert.True(p.HasXsave);
        Assert.False(p.HasXsavec);
        Assert.False(p.HasXsaves);
        var v = LayoutView.Create(p);
        Assert.Equal(0UL, v.CompactedMask);
        Assert.All(v.Components, c => Assert.Null(c.CompactedOffset));
        Assert.Null(v.CompactedSize);
        Assert.Null(v.CompactedWithSupervisorSize);
        Assert.Equal((int)p.Leaf(0xD, 0).Ecx, v.StandardSize);
        Assert.Contains(v.Warnings, w => w.Contains("only the standard format"));
        Assert.NotNull(LayoutView.CheckXss(p, XFeatureMasks.CetUser));
    }

    [Fact]
    public void Nehalem_WithoutXsave_LoadsAndSaysSo()
    {
        var p = CpuCatalog.Get("nehalem");
        Assert.False(p.HasXsave);
        Assert.Equal(0UL, p.SupportedXcr0);
        var v = LayoutView.Create(p);
        Assert.False(v.HasXsave);
        Assert.Empty(v.Components);
        Assert.Null(v.StandardSize);
        Assert.Contains(v.Warnings, w => w.Contains("no XSAVE"));
        Assert.NotNull(LayoutView.CheckXcr0(p, 0x3));
        Assert.Equal("NO_XSAVE", Assert.Single(ProfileSanity.Check(p)).Code);
    }

    [Fact]
    public void EveryCatalogCpu_ComputedMaxStandardSize_EqualsItsCpuidEcx()
    {
        foreach (var p in CpuCatalog.All.Where(p => p.HasXsave))
            Assert.True(p.Leaf(0xD, 0).Ecx == XStateGeometry.Size(p, p.SupportedXcr0, false), p.Name);
    }
}
