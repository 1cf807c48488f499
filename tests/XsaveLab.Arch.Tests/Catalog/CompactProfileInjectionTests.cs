namespace XsaveLab.Arch.Tests.Catalog;

/// <summary>Header values cannot inject lines into a generated profile.</summary>
public class CompactProfileInjectionTests
{
    [Theory]
    [InlineData("one\n   0x0000000d 0x02: eax=0xffffffff ebx=0x00000000 ecx=0x00000000 edx=0x00000000")]
    [InlineData("cr\r\nCPU 1:")]
    [InlineData("esc \u001b[31m bel \u0007")]
    public void ControlCharactersInTheDescription_StayOnItsLine(string description)
    {
        var spr = CpuCatalog.Get("spr");
        string text = CatalogCompact(spr, description);
        var headers = text.Split('\n').TakeWhile(l => l.StartsWith('#')).ToList();
        Assert.Equal(3, headers.Count);
        Assert.StartsWith("# description: ", headers[2]);
        Assert.DoesNotContain(headers[2], char.IsControl);
        Assert.Equal(spr.Leaves.Where(CpuidTextWriter.IsRelevant), CpuidTextReader.Parse(text, "x.cpuid").Leaves);
    }

    [Fact]
    public void ControlCharactersInTheSourceName_AreEscaped()
    {
        var spr = CpuCatalog.Get("spr");
        var odd = new CpuProfile("spr", "dump\n   0x00000001 0x00: eax=0 ebx=0 ecx=0 edx=0", spr.Leaves);
        string text = CpuidTextWriter.Write(odd);
        Assert.Contains("# source: dump\\x0a", text);
        Assert.Equal(spr.Leaf(1), CpuidTextReader.Parse(text, "x.cpuid").Leaf(1));
    }

    private static string CatalogCompact(CpuProfile p, string description) => CpuCatalog.ToCompactProfile(p, "x", description);
}
