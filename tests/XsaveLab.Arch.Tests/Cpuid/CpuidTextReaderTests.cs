namespace XsaveLab.Arch.Tests.Cpuid;

public class CpuidTextReaderTests
{
    private const string InstLatTwoCpus = """
        ------[ CPUID Registers / Logical CPU #0 ]------

        CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69 [GenuineIntel]
        CPUID 00000001: 000306C3-00100800-7FFAFBFF-BFEBFBFF
        CPUID 0000000D: 00000007-00000340-00000340-00000000 [SL 00]
        CPUID 0000000D: 00000001-00000000-00000000-00000000 [SL 01]
        CPUID 0000000D: 00000100-00000240-00000000-00000000 [SL 02]

        ------[ CPUID Registers / Logical CPU #1 ]------

        CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69 [GenuineIntel]
        CPUID 00000001: 000306C3-01100800-7FFAFBFF-BFEBFBFF
        CPUID 0000000D: 00000007-00000340-00000340-00000000 [SL 00]
        """;

    private const string RawTwoCpus = """
        CPU 0:
           0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69
           0x00000001 0x00: eax=0x000306c3 ebx=0x00100800 ecx=0x7ffafbff edx=0xbfebfbff
           0x0000000d 0x00: eax=0x00000007 ebx=0x00000340 ecx=0x00000340 edx=0x00000000
           0x0000000d 0x01: eax=0x00000001 ebx=0x00000000 ecx=0x00000000 edx=0x00000000
           0x0000000d 0x02: eax=0x00000100 ebx=0x00000240 ecx=0x00000000 edx=0x00000000
        CPU 1:
           0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69
           0x00000001 0x00: eax=0x000306c3 ebx=0x01100800 ecx=0x7ffafbff edx=0xbfebfbff
        """;

    [Theory]
    [InlineData(InstLatTwoCpus, CpuidTextFormat.InstLatx64)]
    [InlineData(RawTwoCpus, CpuidTextFormat.CpuidRaw)]
    public void Parse_BothFormats_ReadFirstCpuOnly(string text, CpuidTextFormat format)
    {
        Assert.Equal(format, CpuidTextReader.Detect(text));
        var p = CpuidTextReader.Parse(text, "two.txt");
        Assert.Equal(0x00100800u, p.Leaf(1).Ebx); // APIC id 0, not CPU 1's 0x01
        Assert.Equal(CpuVendor.Intel, p.Vendor);
        Assert.Equal(0x7UL, p.SupportedXcr0);
        Assert.Equal(576, p.Component(2)!.Value.StandardOffset);
        Assert.Equal(5, p.Leaves.Count);
        Assert.Equal("two", p.Name);
        Assert.Equal("two.txt", p.Source);
    }

    [Fact]
    public void Parse_BothFormatsOfTheSameCpu_GiveTheSameLeaves()
    {
        var a = CpuidTextReader.Parse(InstLatTwoCpus, "a.txt");
        var b = CpuidTextReader.Parse(RawTwoCpus, "b.txt");
        Assert.Equal(a.Leaves, b.Leaves);
    }

    [SkippableFact]
    public void ReadFile_RealMultiCpuDump_TakesTheFirstBlock()
    {
        Skip.If(RepoPaths.CpuidDumps is null, RepoPaths.NoDumps);
        var path = Path.Combine(RepoPaths.CpuidDumps!, CpuCatalog.Get("spr").Source);
        var lines = File.ReadAllLines(path);
        var leaf1 = lines.Where(l => l.StartsWith("CPUID 00000001:", StringComparison.Ordinal)).ToList();
        Assert.True(leaf1.Count > 1, "the dump should hold several logical CPUs");
        Assert.NotEqual(leaf1[0], leaf1[1]); // APIC ids differ, so "first" is observable
        var p = CpuidTextReader.ReadFile(path);
        Assert.Equal(Convert.ToUInt32(leaf1[0].Substring(25, 8), 16), p.Leaf(1).Ebx);
    }

    [Fact]
    public void ReadFile_Missing_NamesTheFile()
    {
        var e = Assert.Throws<CpuProfileFormatException>(() => CpuidTextReader.ReadFile("no/such/dump.txt"));
        Assert.Equal("no/such/dump.txt", e.File);
        Assert.Equal(0, e.Line);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void ReadFile_Directory_SaysSo()
    {
        string dir = Directory.CreateTempSubdirectory("xsavelab-dir-").FullName;
        try
        {
            var e = Assert.Throws<CpuProfileFormatException>(() => CpuidTextReader.ReadFile(dir));
            Assert.Equal(dir, e.File);
            Assert.Contains("is a directory", e.Message);
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [Fact]
    public void Parse_NotADump_SaysWhatWasExpected()
    {
        var e = Assert.Throws<CpuProfileFormatException>(() => CpuidTextReader.Parse("hello\nworld\n", "notes.txt"));
        Assert.Equal("notes.txt", e.File);
        Assert.Contains("not a CPUID dump", e.Message);
    }

    [Fact]
    public void Parse_XsaveWithoutLeafD_IsAnError()
    {
        // CPUID.1:ECX = 0x7ffafbff has bit 26 (XSAVE) set.
        var text = string.Join('\n', InstLatTwoCpus.Split('\n').Where(l => !l.Contains("CPUID 0000000D")));
        var e = Assert.Throws<CpuProfileFormatException>(() => CpuidTextReader.Parse(text, "cut.txt"));
        Assert.True(e.Message.Contains("XSAVE"), e.Message);
        Assert.Contains("no leaf 0xd", e.Message);
    }

    [Theory]
    [InlineData(InstLatTwoCpus, "CPUID 00000001: 000306C3-00100800-7FFAFBFF-BFEBFBFF", "CPUID 00000001: 000306C3-0010080-7FFAFBFF", 4)]
    [InlineData(RawTwoCpus, "0x00000001 0x00: eax=0x000306c3 ebx=0x00100800", "0x00000001 0x00: eax=0x000306c3 ebx=0xZZ", 3)]
    public void Parse_MalformedLine_GivesItsLineNumber(string text, string good, string bad, int line)
    {
        var e = Assert.Throws<CpuProfileFormatException>(() => CpuidTextReader.Parse(text.Replace(good, bad), "bad.txt"));
        Assert.Equal(line, e.Line);
        Assert.StartsWith($"bad.txt:{line}: malformed", e.Message);
    }

    [Fact]
    public void Parse_ProseLinesStartingWithCpuid_AreNotLeaves()
    {
        var text = "CPUID Manufacturer: GenuineIntel\n" + InstLatTwoCpus;
        Assert.Equal(0x7UL, CpuidTextReader.Parse(text, "x.txt").SupportedXcr0);
    }

    [Fact]
    public void Parse_HeaderLines_NameTheProfile()
    {
        var p = CpuidTextReader.Parse("# name: mine\n# source: lab notes\n" + RawTwoCpus, "f.cpuid");
        Assert.Equal("mine", p.Name);
        Assert.Equal("lab notes", p.Source);
    }

    [Fact]
    public void Writer_KeepsOnlyRelevantLeaves_AndReadsBack()
    {
        var text = InstLatTwoCpus.Replace("CPUID 0000000D: 00000007-00000340-00000340-00000000 [SL 00]",
            "CPUID 00000004: FC004121-02C0003F-0000003F-00000000 [SL 00]\nCPUID 0000000D: 00000007-00000340-00000340-00000000 [SL 00]");
        var p = CpuidTextReader.Parse(text, "x.txt");
        Assert.Contains(p.Leaves, l => l.Leaf == 4);
        var back = CpuidTextReader.Parse(CpuidTextWriter.Write(p), "y.cpuid");
        Assert.DoesNotContain(back.Leaves, l => l.Leaf == 4);
        Assert.Equal(p.Leaves.Where(CpuidTextWriter.IsRelevant), back.Leaves);
    }
}
