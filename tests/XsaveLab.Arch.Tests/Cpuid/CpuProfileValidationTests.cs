namespace XsaveLab.Arch.Tests.Cpuid;

/// <summary>The bounds every dump must keep (<see cref="CpuProfileValidation"/>), each with the line it names.</summary>
public class CpuProfileValidationTests
{
    public static TheoryData<string> Names() => [.. CpuCatalog.Names];

    private static CpuProfileFormatException Refused(string text)
    {
        var e = Assert.Throws<CpuProfileFormatException>(() => CpuidTextReader.Parse(text, "bad.txt"));
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith($"bad.txt:{e.Line}: ", e.Message);
        return e;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryCatalogCpu_IsWithinTheBounds(string name)
    {
        var p = CpuCatalog.Get(name);
        Assert.Null(CpuProfileValidation.FirstProblem(p));
        if (p.HasXsave)
            Assert.True(XStateGeometry.Size(p, p.SupportedXcr0 | p.SupportedXss, true) * 16 < CpuProfileLimits.MaxAreaBytes,
                "the bound must stay far above every real CPU");
    }

    [Theory]
    [InlineData(0xFFFFFFFFu)] // -1 when read as signed
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0x80000000u)]
    [InlineData((uint)CpuProfileLimits.MaxComponentBytes + 1)]
    public void ComponentSizePastTheBound_IsRefusedOnItsLine(uint size)
    {
        string text = DumpText.Edited("haswell", 0xD, 2, l => l with { Eax = size });
        var e = Refused(text);
        Assert.Equal(DumpText.LineOf(text, 0xD, 2), e.Line);
        Assert.Contains(size.ToString(), e.Problem);
        Assert.Contains("1 MiB", e.Problem);
    }

    [Theory]
    [InlineData(0xFFFFFF00u)] // offset -256 when read as signed
    [InlineData((uint)CpuProfileLimits.MaxComponentBytes)]
    public void ComponentEndPastTheBound_IsRefused(uint offset)
    {
        string text = DumpText.Edited("haswell", 0xD, 2, l => l with { Ebx = offset });
        Assert.Equal(DumpText.LineOf(text, 0xD, 2), Refused(text).Line);
    }

    [Fact]
    public void ComponentAtOffsetZero_IsRefused()
    {
        string text = DumpText.Edited("haswell", 0xD, 2, l => l with { Ebx = 0 });
        var e = Refused(text);
        Assert.Equal(DumpText.LineOf(text, 0xD, 2), e.Line);
        Assert.Contains("576", e.Problem);
    }

    [Theory]
    [InlineData(9u)]  // PKRU, in XCR0
    [InlineData(11u)] // CET_U, in IA32_XSS
    [InlineData(18u)] // AMX tile data
    public void EnumeratedComponentWithoutItsSubleaf_IsRefusedOnTheEnumeratingLine(uint sub)
    {
        string text = DumpText.Edited("spr", 0xD, sub, _ => null);
        var e = Refused(text);
        bool xss = (CpuCatalog.Get("spr").SupportedXss >> (int)sub & 1) != 0;
        Assert.Equal(DumpText.LineOf(text, 0xD, xss ? 1u : 0u), e.Line);
        Assert.Contains($"CPUID(0xd,{sub})", e.Problem);
    }

    [Fact]
    public void AllSizesZero_IsRefused()
    {
        var p = CpuCatalog.Get("spr");
        string text = DumpText.Raw(p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf >= 2 ? l with { Eax = 0 } : l));
        Assert.Contains("size 0", Refused(text).Problem);
    }

    [Fact]
    public void ComponentSmallerThanItsRegisters_IsRefused()
    {
        string text = DumpText.Edited("spr", 0xD, 9, l => l with { Eax = 1 });
        Assert.Contains("fewer than the 8", Refused(text).Problem);
    }

    [Fact]
    public void LargerComponentThanArchitectural_IsKept()
    {
        // Zen 2 reports a 64-byte PKRU slot: odd (a sanity warning), not out of bounds.
        Assert.Equal(64, CpuCatalog.Get("zen2-matisse").Component(9)!.Value.Size);
    }

    [Theory]
    [InlineData(0u, 0xFFFFFFFFu, 0u)]
    [InlineData(0u, 0x000602E7u | 1u << 8, 0u)]  // PT is a supervisor bit: undefined in XCR0
    [InlineData(0u, 0x000602E7u, 1u)]             // XCR0 bit 32
    [InlineData(1u, 0x0000DD00u | 1u << 2, 0u)]   // AVX is a user bit: undefined in IA32_XSS
    [InlineData(1u, 0x0000DD00u | 1u << 30, 0u)]
    public void UndefinedMaskBits_AreRefused(uint sub, uint low, uint high)
    {
        string text = DumpText.Edited("spr", 0xD, sub, l => sub == 0 ? l with { Eax = low, Edx = high } : l with { Ecx = low, Edx = high });
        var e = Refused(text);
        Assert.Equal(DumpText.LineOf(text, 0xD, sub), e.Line);
        Assert.Contains("does not define", e.Problem);
    }

    [Fact]
    public void DefinedMasks_AreTheTablesUserAndSupervisorBits()
    {
        Assert.Equal(0UL, CpuProfileValidation.DefinedXcr0 & CpuProfileValidation.DefinedXss);
        foreach (var f in XFeatureTable.All)
            Assert.Equal(f.IsSupervisor, (CpuProfileValidation.DefinedXss & f.Mask) != 0);
        Assert.True(XFeatureMasks.IsSubset(XFeatureMasks.UserSupported, CpuProfileValidation.DefinedXcr0));
    }

    [Theory]
    [InlineData(0u, 1u)]
    [InlineData(0u, 2u)]
    [InlineData(1u, 1u)]
    public void ReportedAreaPastTheBound_IsRefused(uint sub, uint register)
    {
        uint big = CpuProfileLimits.MaxAreaBytes + 1u;
        string text = DumpText.Edited("spr", 0xD, sub, l => register == 1 ? l with { Ebx = big } : l with { Ecx = big });
        Assert.Equal(DumpText.LineOf(text, 0xD, sub), Refused(text).Line);
    }

    [Fact]
    public void CompactedAreaPastTheBound_IsRefused()
    {
        // Each component within its own bound, but together past the area bound.
        var p = CpuCatalog.Get("spr");
        uint half = (uint)CpuProfileLimits.MaxComponentBytes / 2;
        string text = DumpText.Raw(p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf is 17 or 18 or 19 or 7 ? l with { Eax = half, Ebx = (l.Ecx & 1) == 0 ? 0x1000u : 0u } : l));
        Assert.Contains("compacted", Refused(text).Problem);
    }

    [Fact]
    public void MaxLeafZero_IsReadAsACpuWithoutXsave()
    {
        string text = DumpText.Edited("spr", 0, 0, l => l with { Eax = 0 });
        var p = CpuidTextReader.Parse(text, "max0.txt");
        Assert.False(p.HasXsave);
        Assert.Equal(0UL, p.SupportedXcr0);
        var cpu = new XsaveCpu(p);
        Assert.Equal(XFeatureMasks.FpSse, cpu.Enumerated);
    }

    [Fact]
    public void XsaveCpu_RefusesAnOutOfBoundsProfileAsMisuse_NotWithAnOverflow()
    {
        var p = CpuCatalog.Get("haswell");
        var hostile = new CpuProfile("hostile", "test", p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == 2 ? l with { Eax = 0x7FFFFFFF } : l));
        var e = Assert.Throws<ArgumentException>(() => new XsaveCpu(hostile));
        Assert.Contains("1 MiB", e.Message);
        var missing = new CpuProfile("missing", "test", CpuCatalog.Get("spr").Leaves.Where(l => !(l.Leaf == 0xD && l.Subleaf == 9)));
        Assert.Throws<ArgumentException>(() => new XsaveCpu(missing));
    }
}
