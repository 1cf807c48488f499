namespace XsaveLab.Arch.Tests.Cpuid;

/// <summary>What the reader refuses before it parses: files that are not regular, that are too large, lines
/// that are too long; and what it refuses while parsing: fields wider than 32 bits, out-of-range sub-leaf tags,
/// leaves given twice. Each refusal is one line naming the file (and the line where there is one).</summary>
public sealed class CpuidInputLimitsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-cpuid-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CpuProfileFormatException Refused(Func<CpuProfile> read)
    {
        var e = Assert.Throws<CpuProfileFormatException>(() => read());
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [SkippableFact]
    public void Fifo_IsRefusedWithoutBlocking()
    {
        string fifo = SpecialFiles.Fifo(_dir, "dump.fifo");
        // No writer ever opens the FIFO: a blocking open() would never return. The fuzz helper's limit turns that into a failure.
        Assert.Null(Fuzz.Failure(fifo, path =>
        {
            var e = Refused(() => CpuidTextReader.ReadFile(path));
            Assert.Contains("FIFO", e.Problem);
        }, new Fuzz.Limits(TimeSpan.FromSeconds(30), 1L << 20)));
    }

    [SkippableFact]
    public void DevZero_IsRefusedAsADevice()
    {
        Skip.IfNot(File.Exists("/dev/zero"), "no /dev/zero on this system");
        var e = Refused(() => CpuidTextReader.ReadFile("/dev/zero"));
        Assert.Contains("character device", e.Problem);
    }

    [Fact]
    public void Directory_IsRefused()
    {
        var e = Refused(() => CpuidTextReader.ReadFile(_dir));
        Assert.Contains("directory", e.Problem);
    }

    [Fact]
    public void SparseFileOverTheLimit_IsRefusedFromItsSizeWithBoundedMemory()
    {
        string path = Path.Combine(_dir, "sparse.txt");
        using (var f = File.Create(path))
            f.SetLength(4L << 30); // 4 GiB, no blocks written
        Assert.Null(Fuzz.Failure(path, p =>
        {
            var e = Refused(() => CpuidTextReader.ReadFile(p));
            Assert.Contains(XsaveLab.Arch.Text.Numbers.Int(CpuProfileLimits.MaxFileBytes) + " bytes", e.Problem);
            Assert.Contains("4 MiB", e.Problem);
        }, new Fuzz.Limits(TimeSpan.FromSeconds(30), 16L << 20)));
    }

    [Fact]
    public void FileJustOverTheLimit_IsRefused_AndOneAtTheLimitIsRead()
    {
        string text = CpuidTextWriter.Write(CpuCatalog.Get("spr"));
        string padding = new string('#', 100) + "\n";
        string big = text + string.Concat(Enumerable.Repeat(padding, (CpuProfileLimits.MaxFileBytes - text.Length) / padding.Length));
        string path = Path.Combine(_dir, "big.txt");
        File.WriteAllText(path, big);
        Assert.Equal("spr", CpuidTextReader.ReadFile(path).Name);
        File.AppendAllText(path, new string('#', padding.Length + 1));
        Assert.Contains("at most", Refused(() => CpuidTextReader.ReadFile(path)).Problem);
    }

    [Fact]
    public void HugeLine_IsRefusedWithItsLineNumber_AndNotEchoed()
    {
        string text = CpuidTextWriter.Write(CpuCatalog.Get("spr"));
        string withLine = text.Replace("CPU 0:\n", "CPU 0:\n" + new string('A', CpuProfileLimits.MaxLineChars + 1) + "\n", StringComparison.Ordinal);
        var e = Refused(() => CpuidTextReader.Parse(withLine, "long.txt"));
        Assert.Equal(text.Split('\n').ToList().IndexOf("CPU 0:") + 2, e.Line);
        Assert.True(e.Message.Length < 200, e.Message);
        // A line at the limit is fine.
        string atLimit = text.Replace("CPU 0:\n", "CPU 0:\n#" + new string('A', CpuProfileLimits.MaxLineChars - 1) + "\n", StringComparison.Ordinal);
        Assert.Equal("spr", CpuidTextReader.Parse(atLimit, "ok.txt").Name);
    }

    [Fact]
    public void HundredMegabyteLine_FailsFastWithBoundedMemory()
    {
        string path = Path.Combine(_dir, "line.txt");
        using (var w = new StreamWriter(path))
        {
            w.Write("CPUID 00000000: ");
            var chunk = new string('F', 1 << 20);
            for (int i = 0; i < 100; i++)
                w.Write(chunk);
        }
        Assert.Null(Fuzz.Failure(path, p => Refused(() => CpuidTextReader.ReadFile(p)), new Fuzz.Limits(TimeSpan.FromSeconds(30), 16L << 20)));
    }

    [Theory]
    [InlineData("1FFFFFFFF")]
    [InlineData("100000000")]
    [InlineData("")]
    [InlineData("xyz")]
    public void OutOfRangeSubleafTag_IsAnError_NotSubleafZero(string tag)
    {
        string text = """
            CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69
            CPUID 00000001: 000306C3-00100800-7FFAFBFF-BFEBFBFF
            CPUID 0000000D: 00000007-00000340-00000340-00000000 [SL 00]
            CPUID 0000000D: 00000100-00000240-00000000-00000000 [SL 02]
            CPUID 0000000D: 00000003-00000240-00000000-00000000 [SL TAG]
            """.Replace("TAG", tag, StringComparison.Ordinal);
        var e = Refused(() => CpuidTextReader.Parse(text, "sl.txt"));
        Assert.Equal(5, e.Line);
        Assert.Contains("sub-leaf", e.Problem);
    }

    [Fact]
    public void LongestValidSubleafTag_IsRead()
    {
        string text = """
            CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69
            CPUID 00000001: 000306C3-00100800-7FFAFBFF-BFEBFBFF
            CPUID 0000000D: 00000007-00000340-00000340-00000000 [SL 00]
            CPUID 0000000D: 00000100-00000240-00000000-00000000 [SL 02]
            CPUID 0000000D: 00000003-00000000-00000000-00000000 [SL FFFFFFFF]
            """;
        var p = CpuidTextReader.Parse(text, "sl.txt");
        Assert.True(p.TryGetLeaf(0xD, 0xFFFFFFFF, out var l));
        Assert.Equal(3u, l.Eax);
        Assert.Equal(0x7u, p.Leaf(0xD, 0).Eax); // sub-leaf 0 untouched
    }

    [Fact]
    public void RegisterWithANinthDigit_IsMalformed()
    {
        string text = """
            CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69
            CPUID 00000001: 000306C3-00100800-7FFAFBFF-BFEBFBFF
            CPUID 0000000D: 00000007-00000340-00000340-00000000 [SL 00]
            CPUID 0000000D: 00000100-00000240-00000000-000000001 [SL 02]
            """;
        Assert.Equal(4, Refused(() => CpuidTextReader.Parse(text, "x.txt")).Line);
        string raw = DumpText.Edited("haswell", 0xD, 2, l => l).Replace("eax=0x00000100", "eax=0x100000100", StringComparison.Ordinal);
        Assert.Equal(DumpText.LineOf(raw.Replace("eax=0x100000100", "eax=0x00000100", StringComparison.Ordinal), 0xD, 2),
            Refused(() => CpuidTextReader.Parse(raw, "x.txt")).Line);
    }

    [Theory]
    [InlineData(0xDu, 2u)]
    [InlineData(0xDu, 0u)]
    [InlineData(1u, 0u)]
    [InlineData(7u, 0u)]
    public void DuplicateLeaf_IsAnError_NotASilentReplacement(uint leaf, uint sub)
    {
        var p = CpuCatalog.Get("spr");
        var l = p.Leaf(leaf, sub);
        var leaves = p.Leaves.ToList();
        leaves.Add(l with { Eax = l.Eax ^ 0x40 });
        string text = DumpText.Raw(leaves);
        var e = Refused(() => CpuidTextReader.Parse(text, "dup.txt"));
        Assert.Equal(leaves.Count + 1, e.Line);
        Assert.Contains($"first on line {DumpText.LineOf(text, leaf, sub)}", e.Problem);
    }

    [Fact]
    public void UntaggedRepeatsOfUnusedLeaves_AreSkippedAsBefore()
    {
        // Older InstLatx64 dumps list leaf 4's sub-leaves without [SL] tags; the model never reads leaf 4.
        string text = """
            CPUID 00000000: 0000000B-756E6547-6C65746E-49656E69
            CPUID 00000001: 000106A2-00100800-00BCE3BD-BFEBFBFF
            CPUID 00000004: 1C004121-01C0003F-0000003F-00000000
            CPUID 00000004: 1C004122-00C0003F-0000007F-00000000
            """;
        var p = CpuidTextReader.Parse(text, "old.txt");
        Assert.Equal(0x1C004121u, p.Leaf(4).Eax);
    }

    [Fact]
    public void ManyLeafLines_AreReadInLinearTime()
    {
        // 300,000 distinct leaf lines once took 18 s (each line was compared with all before it). The limit here
        // is a hang guard for a quadratic reader, not a performance figure.
        var p = CpuCatalog.Get("haswell");
        var extra = Enumerable.Range(0, 100_000).Select(i => new CpuidLeaf(0x40000000u + (uint)i, 0, 1, 2, 3, 4));
        string text = DumpText.Raw(p.Leaves.Concat(extra));
        Assert.True(text.Length < CpuProfileLimits.MaxFileBytes * 2);
        string head = text[..Math.Min(text.Length, CpuProfileLimits.MaxFileBytes - 100)];
        head = head[..(head.LastIndexOf('\n') + 1)];
        Assert.Null(Fuzz.Failure(head, t => Assert.Equal(p.Leaves.Count, CpuidTextReader.Parse(t, "many.txt").Leaves.Count(l => l.Leaf < 0x40000000 || l.Leaf >= 0x80000000)),
            new Fuzz.Limits(TimeSpan.FromSeconds(30), 1L << 30)));
    }

    [Fact]
    public void ByteOrderMarks_AreHonouredAsBefore()
    {
        string text = CpuidTextWriter.Write(CpuCatalog.Get("haswell"));
        foreach (var enc in new System.Text.Encoding[] { new System.Text.UTF8Encoding(true), new System.Text.UnicodeEncoding(false, true) })
        {
            string path = Path.Combine(_dir, "bom.txt");
            File.WriteAllText(path, text, enc);
            Assert.Equal(CpuCatalog.Get("haswell").Leaves, CpuidTextReader.ReadFile(path).Leaves);
        }
    }
}
