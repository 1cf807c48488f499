namespace XsaveLab.Cli.Tests;

/// <summary>Hostile <c>--cpuid</c> files and <c>catalog import</c> inputs: each is refused with one
/// <c>error: FILE[:LINE]: …</c> line and exit 2, without blocking, or answered with the findings shown.</summary>
public sealed class CpuidInputTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new("xsavelab-cli-cpuid-");

    public void Dispose() => _scratch.Dispose();

    private string Write(string name, string text) => _scratch.Write(name, text);

    /// <summary>Catalog CPU <paramref name="cpu"/> in <c>cpuid -r</c> form with lines changed by <paramref name="edit"/>.</summary>
    private static string Profile(string cpu, Func<string, string?> edit) =>
        string.Join('\n', CpuidTextWriter.Write(CpuCatalog.Get(cpu)).Split('\n').Select(edit).OfType<string>());

    /// <summary>Runs the command on a worker thread, so that a reader that blocks fails the test instead of hanging it.</summary>
    private static CliResult RunWithin(TimeSpan limit, params string[] args) =>
        SpecialFiles.Within(limit, $"'{string.Join(' ', args)}'", () => CliRunner.Run(args));

    [SkippableFact]
    public void Fifo_IsRefusedWithoutBlocking()
    {
        string fifo = SpecialFiles.Fifo(_scratch.Path, "dump.fifo");
        foreach (var cmd in new[] { "layout", "boot" })
            Assert.Contains("FIFO", CliRunner.OneError(RunWithin(TimeSpan.FromSeconds(60), cmd, "--cpuid", fifo)));
        Assert.Contains("FIFO", CliRunner.OneError(RunWithin(TimeSpan.FromSeconds(60), "catalog", "import", fifo, "--name", "x", "--description", "d")));
    }

    [SkippableFact]
    public void DevZero_IsRefused()
    {
        Skip.IfNot(File.Exists("/dev/zero"), "no /dev/zero on this system");
        Assert.Contains("not a regular file", CliRunner.OneError(RunWithin(TimeSpan.FromSeconds(60), "layout", "--cpuid", "/dev/zero")));
    }

    [Fact]
    public void Directory_IsRefused()
    {
        Assert.Contains("directory", CliRunner.OneError(CliRunner.Run("layout", "--cpuid", _scratch.Path)));
    }

    [Fact]
    public void OversizedLine_IsRefusedWithoutEchoingIt()
    {
        string path = Write("long.txt", Profile("haswell", l => l == "CPU 0:" ? l + "\n" + new string('7', 200_000) : l));
        string error = CliRunner.OneError(CliRunner.Run("layout", "--cpuid", path));
        Assert.StartsWith($"error: {path}:", error);
        Assert.Contains($"at most {CpuProfileLimits.MaxLineChars}", error);
        Assert.True(error.Length < 300, error);
    }

    [Theory]
    [InlineData("eax=0xffffffff")] // size -1 when read as signed
    [InlineData("eax=0x7fffffff")]
    public void NegativeOrHugeSize_IsRefusedOnItsLine(string eax)
    {
        string text = Profile("haswell", l => l.Contains("0x0000000d 0x02:", StringComparison.Ordinal) ? l.Replace("eax=0x00000100", eax, StringComparison.Ordinal) : l);
        int line = text.Split('\n').ToList().FindIndex(l => l.Contains("0x0000000d 0x02:", StringComparison.Ordinal)) + 1;
        string path = Write("size.txt", text);
        foreach (var cmd in new[] { "layout", "boot", "kvm" })
        {
            string error = CliRunner.OneError(CliRunner.Run(cmd, "--cpuid", path));
            Assert.StartsWith($"error: {path}:{line}: ", error);
            Assert.Contains("1 MiB", error);
        }
    }

    [Fact]
    public void MissingSubleaf_IsRefusedByEveryCommand_IncludingReport()
    {
        string path = Write("nopkru.txt", Profile("spr", l => l.Contains("0x0000000d 0x09:", StringComparison.Ordinal) ? null : l));
        foreach (var cmd in new[] { "layout", "report", "boot" })
            Assert.Contains("no CPUID(0xd,9) sub-leaf", CliRunner.OneError(CliRunner.Run(cmd, "--cpuid", path)));
        Assert.Contains("no CPUID(0xd,9) sub-leaf", CliRunner.OneError(CliRunner.Run("catalog", "import", path, "--name", "x", "--description", "d")));
    }

    [Fact]
    public void OutOfRangeSubleafTag_IsRefused()
    {
        string path = Write("sl.txt", """
            CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69
            CPUID 00000001: 000306C3-00100800-7FFAFBFF-BFEBFBFF
            CPUID 0000000D: 00000007-00000340-00000340-00000000 [SL 00]
            CPUID 0000000D: 00000100-00000240-00000000-00000000 [SL 02]
            CPUID 0000000D: 00000001-00000000-00000000-00000000 [SL 1FFFFFFFF]
            """);
        Assert.StartsWith($"error: {path}:5: malformed sub-leaf tag", CliRunner.OneError(CliRunner.Run("layout", "--cpuid", path)));
    }

    [Fact]
    public void SuspiciousButBoundedDump_IsAnsweredWithItsFindings()
    {
        string path = Write("odd.txt", Profile("haswell", l => l.Contains("0x0000000d 0x00:", StringComparison.Ordinal) ? l.Replace("ecx=0x00000340", "ecx=0x00000380", StringComparison.Ordinal) : l));
        var r = CliRunner.Run("layout", "--cpuid", path);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("MAX_SIZE", r.Out + r.Err);
    }

    [Fact]
    public void CpuWithoutFxsr_IsBadInputForTheKernelModel()
    {
        string path = Write("nofxsr.txt", Profile("haswell", l => l.Contains("0x00000001 0x00:", StringComparison.Ordinal) ? l.Replace("edx=0xbfebfbff", "edx=0x00000000", StringComparison.Ordinal) : l));
        Assert.Contains("FXSR", CliRunner.OneError(CliRunner.Run("kvm", "--cpuid", path)));
    }

    [Fact]
    public void CatalogImport_NewlineInDescription_IsRefused()
    {
        string path = Write("ok.txt", CpuidTextWriter.Write(CpuCatalog.Get("haswell")));
        string error = CliRunner.OneError(CliRunner.Run("catalog", "import", path, "--name", "x", "--description", "one\n   0x0000000d 0x02: eax=0xffffffff ebx=0 ecx=0 edx=0"));
        Assert.Contains("--description", error);
        Assert.Empty(Directory.GetFiles(_scratch.Path, "x.cpuid"));
    }

    [Fact]
    public void CatalogImport_OutputReadsBackAsTheSameCpu()
    {
        string path = Write("ok.txt", CpuidTextWriter.Write(CpuCatalog.Get("spr")));
        var r = CliRunner.Run("catalog", "import", path, "--name", "copy", "--description", "a copy", "--out", _scratch.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        var back = CpuidTextReader.ReadFile(Path.Combine(_scratch.Path, "copy.cpuid"));
        Assert.Equal(CpuCatalog.Get("spr").Leaves, back.Leaves);
    }

    [Fact]
    public void CatalogImport_MissingDumpAndUnwritableOutput_AreErrors()
    {
        Assert.Contains("file not found", CliRunner.OneError(CliRunner.Run("catalog", "import", Path.Combine(_scratch.Path, "none.txt"), "--name", "x", "--description", "d")));
        string path = Write("ok.txt", CpuidTextWriter.Write(CpuCatalog.Get("haswell")));
        Directory.CreateDirectory(Path.Combine(_scratch.Path, "x.cpuid")); // the output path is taken by a directory
        Assert.StartsWith("error: --out: cannot write", CliRunner.OneError(CliRunner.Run("catalog", "import", path, "--name", "x", "--description", "d", "--out", _scratch.Path)));
        Assert.Contains("--name", CliRunner.OneError(CliRunner.Run("catalog", "import", path, "--name", new string('a', 300), "--description", "d", "--out", _scratch.Path)));
    }
}
