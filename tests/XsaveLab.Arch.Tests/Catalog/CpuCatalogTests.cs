namespace XsaveLab.Arch.Tests.Catalog;

public class CpuCatalogTests
{
    public static TheoryData<string> Names() => [.. CpuCatalog.Names];

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void CompactProfile_EqualsRelevantLeavesOfItsDump(string name)
    {
        Skip.If(RepoPaths.CpuidDumps is null, RepoPaths.NoDumps);
        Assert.True(CpuCatalog.TryGetEntry(name, out var entry));
        var dumpPath = Path.Combine(RepoPaths.CpuidDumps!, entry.Source);
        Assert.True(File.Exists(dumpPath), $"{name} names source {entry.Source}, which is not among the dumps");
        var dump = CpuidTextReader.ReadFile(dumpPath);
        Assert.Equal(dump.Leaves.Where(CpuidTextWriter.IsRelevant).ToList(), entry.Profile.Leaves.ToList());
        Assert.NotEmpty(entry.Description);
    }

    [SkippableFact]
    public void EveryDump_HasExactlyOneCatalogEntry()
    {
        Skip.If(RepoPaths.CpuidDumps is null, RepoPaths.NoDumps);
        var dumps = Directory.GetFiles(RepoPaths.CpuidDumps!, "*.txt").Select(f => Path.GetFileName(f)!).Order().ToList();
        var sources = CpuCatalog.Entries.Select(e => e.Source).Order().ToList();
        Assert.Equal(dumps, sources);
    }

    [Fact]
    public void Names_AreTheAgreedShortNames()
    {
        string[] expected =
        [
            "nehalem", "haswell", "skx", "clx", "icx", "goldmont-plus", "tgl", "adl", "adl-n", "spr", "emr", "mtl", "arl",
            "zen1", "zen2-matisse", "zen2-castle-peak", "zen3-milan", "zen4-raphael", "zen4-genoa", "zen5-turin",
        ];
        Assert.Equal(expected.Order(), CpuCatalog.Names.Order());
        Assert.Equal(CpuCatalog.Names.Count, CpuCatalog.All.Count);
    }

    [Theory]
    [InlineData("SPR")]
    [InlineData("Zen4-Genoa")]
    public void TryGet_IgnoresCase(string name)
    {
        Assert.True(CpuCatalog.TryGet(name, out var p));
        Assert.Equal(name.ToLowerInvariant(), p.Name);
    }

    [Fact]
    public void TryGet_UnknownName_ReturnsFalse() => Assert.False(CpuCatalog.TryGet("pentium-mmx", out _));

    [Fact]
    public void Default_HasCetAndAmx()
    {
        var p = CpuCatalog.Default;
        Assert.Equal(CpuCatalog.DefaultName, p.Name);
        Assert.Equal(XFeatureMasks.Xtile, p.SupportedXcr0 & XFeatureMasks.Xtile);
        Assert.Equal(XFeatureMasks.CetUser | XFeatureMasks.CetKernel, p.SupportedXss & (XFeatureMasks.CetUser | XFeatureMasks.CetKernel));
        Assert.True(p.HasXsaves && p.HasXfd);
    }

    [Fact]
    public void Entries_IntelFirstThenAmd_EachBySignature()
    {
        var e = CpuCatalog.All;
        int firstAmd = e.ToList().FindIndex(p => p.Vendor == CpuVendor.Amd);
        Assert.True(firstAmd > 0);
        Assert.All(e.Take(firstAmd), p => Assert.Equal(CpuVendor.Intel, p.Vendor));
        Assert.All(e.Skip(firstAmd), p => Assert.Equal(CpuVendor.Amd, p.Vendor));
        Assert.Equal(e.Take(firstAmd).Select(p => p.Signature).Order(), e.Take(firstAmd).Select(p => p.Signature));
    }

    [Fact]
    public void ToCompactProfile_RoundTripsThroughTheReader()
    {
        var spr = CpuCatalog.Get("spr");
        var text = CpuCatalog.ToCompactProfile(spr, "copy", "a copy");
        var back = CpuidTextReader.Parse(text, "copy.cpuid");
        Assert.Equal("copy", back.Name);
        Assert.Equal(spr.Source, back.Source);
        Assert.Equal(spr.Leaves, back.Leaves);
        Assert.Contains("# description: a copy", text);
    }
}
