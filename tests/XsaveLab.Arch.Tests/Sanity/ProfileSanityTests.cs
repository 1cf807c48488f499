namespace XsaveLab.Arch.Tests.Sanity;

public class ProfileSanityTests
{
    public static TheoryData<string> Names() => [.. CpuCatalog.Names];

    /// <summary>A copy of <paramref name="p"/> with one leaf changed (or removed when <paramref name="edit"/> returns null).</summary>
    private static CpuProfile With(CpuProfile p, uint leaf, uint sub, Func<CpuidLeaf, CpuidLeaf?> edit)
    {
        var leaves = p.Leaves.Select(l => l.Leaf == leaf && l.Subleaf == sub ? edit(l) : l).OfType<CpuidLeaf>().ToList();
        if (!p.TryGetLeaf(leaf, sub, out _) && edit(new CpuidLeaf(leaf, sub, 0, 0, 0, 0)) is { } added)
            leaves.Add(added);
        return new CpuProfile(p.Name + "-edited", p.Source, leaves);
    }

    private static IReadOnlyList<string> Codes(CpuProfile p) => [.. ProfileSanity.Check(p).Select(f => f.Code)];

    [Theory]
    [MemberData(nameof(Names))]
    public void RealCpus_BreakNoArchitecturalRule(string name)
    {
        var errors = ProfileSanity.Check(CpuCatalog.Get(name)).Where(f => f.Severity == FindingSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("; ", errors));
    }

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void OsSizes_AreExplainedByTheInferredMasks(string name)
    {
        var p = CpuCatalog.Get(name);
        Skip.IfNot(p.HasXsave, "no XSAVE");
        var fit = ReportedMasks.Infer(p);
        Assert.NotNull(fit.Xcr0);
        Assert.Equal((int)p.Leaf(0xD, 0).Ebx, XStateGeometry.Size(p, fit.Xcr0!.Value, false));
        Assert.True(XFeatureMasks.IsSubset(fit.Xcr0.Value, p.SupportedXcr0));
        if (p.HasXsaves)
        {
            Assert.NotNull(fit.Xss);
            Assert.Equal((int)p.Leaf(0xD, 1).Ebx, XStateGeometry.Size(p, fit.Xcr0.Value | fit.Xss!.Value, true));
        }
        var findings = ProfileSanity.Check(p);
        Assert.Equal(p.Leaf(0xD, 0).Ebx != p.Leaf(0xD, 0).Ecx, findings.Any(f => f.Code == "OS_XCR0_SIZE"));
        Assert.All(findings.Where(f => f.Code.StartsWith("OS_", StringComparison.Ordinal)), f => Assert.Equal(FindingSeverity.Info, f.Severity));
    }

    [Fact]
    public void Emr_DumpedWithoutAmx_IsExplained()
    {
        var f = Assert.Single(ProfileSanity.Check(CpuCatalog.Get("emr")), x => x.Code == "OS_XCR0_SIZE");
        Assert.Contains("XTILECFG|XTILEDATA", f.Message);
    }

    [Fact]
    public void MaxSizeDisagreement_IsAnError()
    {
        var p = With(CpuCatalog.Get("zen4-genoa"), 0xD, 0, l => l with { Ecx = l.Ecx + 64 });
        var f = Assert.Single(ProfileSanity.Check(p), x => x.Code == "MAX_SIZE");
        Assert.Equal(FindingSeverity.Error, f.Severity);
    }

    [Fact]
    public void SupervisorComponentWithStandardOffset_IsFlagged()
    {
        var p = With(CpuCatalog.Get("spr"), 0xD, 11, l => l with { Ebx = 0xB00 });
        Assert.Contains("SUPERVISOR_OFFSET", Codes(p));
    }

    [Fact]
    public void ComponentInTheWrongRegister_IsFlagged()
    {
        var p = With(CpuCatalog.Get("spr"), 0xD, 9, l => l with { Ecx = l.Ecx | 1 });
        Assert.Contains("COMPONENT_REGISTER", Codes(p));
    }

    [Fact]
    public void MissingComponent_StopsTheCompactedAreaGrowing()
    {
        var p = With(CpuCatalog.Get("skx"), 0xD, 9, _ => null);
        var codes = Codes(p);
        Assert.Contains("COMPONENT_MISSING", codes);
        Assert.Contains("COMPACTED_NOT_GROWING", codes);
    }

    [Fact]
    public void OverlappingStandardOffsets_AreAnError()
    {
        var p = With(CpuCatalog.Get("zen4-genoa"), 0xD, 5, l => l with { Ebx = 800 });
        Assert.Contains("STANDARD_OVERLAP", Codes(p));
    }

    [Theory]
    [InlineData(0x2e6UL, "XCR0_X87")]
    [InlineData(0x5UL, "XCR0_AVX_NEEDS_SSE")]
    [InlineData(0x67UL, "XCR0_AVX512_PARTIAL")]
    [InlineData(0xe3UL, "XCR0_AVX512_NEEDS_AVX")]
    [InlineData(0xfUL, "XCR0_MPX_PAIR")]
    [InlineData(0x20007UL, "XCR0_AMX_PAIR")]
    [InlineData(0x8001fUL, "XCR0_APX_MPX")]
    public void SupportedXcr0BreakingARule_IsAnError(ulong xcr0, string code)
    {
        Assert.Contains(code, Xcr0Rules.Violations(xcr0).Select(v => v.Code));
        var p = With(CpuCatalog.Get("spr"), 0xD, 0, l => l with { Eax = (uint)xcr0, Edx = (uint)(xcr0 >> 32) });
        var f = Assert.Single(ProfileSanity.Check(p), x => x.Code == code);
        Assert.Equal(FindingSeverity.Error, f.Severity);
    }

    [Theory]
    [InlineData(0x1UL)]
    [InlineData(0x3UL)]
    [InlineData(0x7UL)]
    [InlineData(0x1fUL)]
    [InlineData(0x2e7UL)]
    [InlineData(0x602e7UL)]
    [InlineData(0xe02e7UL)]
    public void ValidXcr0_HasNoViolations(ulong xcr0) => Assert.Empty(Xcr0Rules.Violations(xcr0));
}
