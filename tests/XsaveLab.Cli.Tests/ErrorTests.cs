namespace XsaveLab.Cli.Tests;

/// <summary>Every kind of bad input: one line on stderr starting with "error:", nothing on stdout, exit 2.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new("xsavelab-cli-");

    public void Dispose() => _scratch.Dispose();

    private string File(string name, string text) => _scratch.Write(name, text);

    private const string XsaveWithoutLeafD = """
        CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69
        CPUID 00000001: 000306C3-00100800-7FFAFBFF-BFEBFBFF
        """;

    [Theory]
    [InlineData("layout")]
    [InlineData("report")]
    public void MissingFile(string command)
    {
        var msg = CliRunner.OneError(CliRunner.Run(command, "--cpuid", Path.Combine(_scratch.Path, "nope.txt")));
        Assert.Contains("nope.txt", msg);
        Assert.Contains("not found", msg);
    }

    [Fact]
    public void NotACpuidDump()
    {
        var msg = CliRunner.OneError(CliRunner.Run("layout", "--cpuid", File("notes.txt", "just some notes\n")));
        Assert.Contains("notes.txt", msg);
        Assert.Contains("not a CPUID dump", msg);
    }

    [Fact]
    public void DumpClaimingXsaveWithoutLeafD()
    {
        var msg = CliRunner.OneError(CliRunner.Run("report", "--cpuid", File("cut.txt", XsaveWithoutLeafD)));
        Assert.Contains("cut.txt", msg);
        Assert.Contains("no leaf 0xd", msg);
    }

    [Fact]
    public void MalformedLine_NamesFileAndLine()
    {
        var msg = CliRunner.OneError(CliRunner.Run("layout", "--cpuid", File("bad.txt", XsaveWithoutLeafD + "\nCPUID 0000000D: 00000007-00000340\n")));
        Assert.Contains("bad.txt:3:", msg);
        Assert.Contains("malformed", msg);
    }

    [Fact]
    public void UnknownCpuName_ListsTheKnownOnes()
    {
        var msg = CliRunner.OneError(CliRunner.Run("layout", "--cpu", "pentium4"));
        Assert.Contains("pentium4", msg);
        Assert.All(CpuCatalog.Names, n => Assert.Contains(n, msg));
    }

    [Theory]
    [InlineData("--xcr0", "zz")]
    [InlineData("--xcr0", "0x")]
    [InlineData("--xss", "0x1_0000_0000_0000_0000")]
    [InlineData("--xss", "-1")]
    public void MalformedMask_NamesTheOption(string option, string value)
    {
        var msg = CliRunner.OneError(CliRunner.Run("layout", "--cpu", "spr", option, value));
        Assert.StartsWith($"error: {option}: ", msg);
        Assert.Contains(value, msg);
    }

    [Theory]
    [InlineData("spr", "--xcr0", "0x802e7", "19")] // APX
    [InlineData("spr", "--xcr0", "0x8e7", "supervisor")] // CET_U belongs in IA32_XSS
    [InlineData("zen4-genoa", "--xss", "0x200", "user state")] // PKRU belongs in XCR0
    [InlineData("haswell", "--xss", "0x800", "no XSAVES")]
    [InlineData("nehalem", "--xcr0", "0x3", "no XSAVE")]
    public void MaskBitsTheCpuLacks(string cpu, string option, string value, string hint)
    {
        var msg = CliRunner.OneError(CliRunner.Run("layout", "--cpu", cpu, option, value));
        Assert.StartsWith($"error: {option}: ", msg);
        Assert.Contains(hint, msg);
    }

    [Theory]
    [InlineData("layout", "--cpu", "spr", "--host")]
    [InlineData("report", "--cpu", "spr", "--cpuid", "x.txt")]
    public void CpuSourcesExcludeEachOther(params string[] args)
    {
        var msg = CliRunner.OneError(CliRunner.Run(args));
        Assert.Contains("exclude each other", msg);
    }

    [Theory]
    [InlineData("layout", "--format", "xml")]
    [InlineData("frobnicate")]
    [InlineData("layout", "--bogus")]
    [InlineData("cpus", "--cpu")]
    public void ParseErrors(params string[] args)
    {
        var msg = CliRunner.OneError(CliRunner.Run(args));
        Assert.Contains("--help", msg);
    }

    [Theory]
    [InlineData("abc", "an integer", "bench", "sim", "--cpu", "spr", "--tasks")]
    [InlineData("fast", "a number", "measure", "context-switch", "--seconds")]
    public void NonNumericValue_SaysWhatWasExpected(string value, string expected, params string[] args)
    {
        var msg = CliRunner.OneError(CliRunner.Run([.. args, value]));
        Assert.Contains($"'{value}'", msg);
        Assert.Contains(expected, msg);
        Assert.DoesNotContain("System.", msg);
    }

    [Fact]
    public void UnknownCommand_IsNamed()
    {
        var msg = CliRunner.OneError(CliRunner.Run("frobnicate"));
        Assert.Contains("'frobnicate'", msg);
    }

    [Theory]
    [InlineData("report")]
    [InlineData("boot")]
    [InlineData("kvm")]
    public void UnknownKernelVariant_ListsTheValidOnes(string command)
    {
        var msg = CliRunner.OneError(CliRunner.Run(command, "--cpu", "spr", "--kernel", "5.4"));
        Assert.StartsWith("error: --kernel: unknown variant '5.4'", msg);
        Assert.Contains("deferred", msg);
    }

    [Fact]
    public void MissingVmmScript_NamesTheOption()
    {
        var msg = CliRunner.OneError(CliRunner.Run("kvm", "--cpu", "spr", "--vmm", Path.Combine(_scratch.Path, "nope.vmm")));
        Assert.StartsWith("error: --vmm: ", msg);
        Assert.Contains("nope.vmm", msg);
        Assert.Contains("qemu", msg);
    }

    [Fact]
    public void VmmScriptBadLine_NamesFileAndLine()
    {
        var msg = CliRunner.OneError(CliRunner.Run("kvm", "--cpu", "spr", "--vmm", File("bad.vmm", "KVM_CREATE_VM\nfrobnicate 1\n")));
        Assert.Contains("bad.vmm:2:", msg);
    }

    [Fact]
    public void HtmlIntoAMissingDirectory_NamesTheDirectory()
    {
        var dir = Path.Combine(_scratch.Path, "missing");
        var msg = CliRunner.OneError(CliRunner.Run("report", "--cpu", "tgl", "--html", Path.Combine(dir, "r.html")));
        Assert.StartsWith("error: --html: ", msg);
        Assert.Contains($"directory {dir} does not exist", msg);
        Assert.DoesNotContain(".tmp", msg);
    }

    [SkippableFact]
    public void PinToACpuNotAllowed_IsAnError()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "sched_getaffinity is Linux-only");
        var msg = CliRunner.OneError(CliRunner.Run("measure", "context-switch", "--pin", "1023", "--runs", "1", "--seconds", "0.01"));
        Assert.StartsWith("error: --pin: CPU 1023", msg);
    }

    [SkippableFact]
    public void RealDumpWithoutXsave_IsNotAnError()
    {
        Skip.If(RepoPaths.CpuidDumps is null, RepoPaths.NoDumps);
        var r = CliRunner.Run("layout", "--cpuid", Path.Combine(RepoPaths.CpuidDumps!, CpuCatalog.Get("nehalem").Source));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("no XSAVE", r.Out);
    }
}
