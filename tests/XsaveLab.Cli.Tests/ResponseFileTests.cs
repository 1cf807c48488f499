namespace XsaveLab.Cli.Tests;

/// <summary><c>@FILE</c> arguments: bounded in size, depth and kind of file; every problem is one error line.</summary>
public sealed class ResponseFileTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new("xsavelab-rsp-");

    public void Dispose() => _scratch.Dispose();

    private string File(string name, string text) => _scratch.Write(name, text);

    [Fact]
    public void AResponseFileGivesArguments()
    {
        string rsp = File("args.rsp", "# the CPU\n--cpu spr\n--format json\n");
        var r = CliRunner.Run("layout", "@" + rsp);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(CliRunner.Run("layout", "--cpu", "spr", "--format", "json").Out, r.Out);
    }

    [Fact]
    public void ASelfIncludingResponseFileIsRefused()
    {
        string rsp = Path.Combine(_scratch.Path, "self.rsp");
        File("self.rsp", $"--cpu spr\n@{rsp}\n");
        var msg = CliRunner.OneError(CliRunner.Run("layout", "@" + rsp));
        Assert.Contains("includes itself", msg);
    }

    [Fact]
    public void ACycleThroughTwoFilesIsRefused()
    {
        string a = Path.Combine(_scratch.Path, "a.rsp"), b = Path.Combine(_scratch.Path, "b.rsp");
        File("a.rsp", $"@{b}\n");
        File("b.rsp", $"@{a}\n");
        CliRunner.OneError(CliRunner.Run("layout", "@" + a));
    }

    [Fact]
    public void DeepNestingIsRefused()
    {
        for (int i = 0; i <= ResponseFiles.MaxDepth + 1; i++)
            File($"{i}.rsp", $"@{Path.Combine(_scratch.Path, $"{i + 1}.rsp")}\n");
        File($"{ResponseFiles.MaxDepth + 2}.rsp", "--cpu spr\n");
        var msg = CliRunner.OneError(CliRunner.Run("layout", "@" + Path.Combine(_scratch.Path, "0.rsp")));
        Assert.Contains("nested", msg);
    }

    [Fact]
    public void ADirectoryIsRefused() =>
        Assert.Contains("directory", CliRunner.OneError(CliRunner.Run("layout", "@" + _scratch.Path)));

    [SkippableFact]
    public void DevZeroIsRefused()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && System.IO.File.Exists("/dev/zero"), "no /dev/zero here");
        Assert.Contains("not a regular file", CliRunner.OneError(CliRunner.Run("layout", "@/dev/zero")));
    }

    [Fact]
    public void AHugeFileIsRefusedWithoutReadingIt()
    {
        string path = Path.Combine(_scratch.Path, "huge.rsp");
        using (var f = new FileStream(path, FileMode.Create))
            f.SetLength(4L << 30); // sparse: costs nothing on disk
        var msg = CliRunner.OneError(CliRunner.Run("layout", "@" + path));
        Assert.Contains(XsaveLab.Arch.Text.Numbers.Bytes(ResponseFiles.MaxBytes), msg); // the limit, in the one number style
    }

    [Fact]
    public void AHugeLineGivesAShortError()
    {
        string path = File("line.rsp", "--cpu spr --kernel " + new string('x', ResponseFiles.MaxBytes - 100) + "\n");
        var msg = CliRunner.OneError(CliRunner.Run("layout", "@" + path));
        Assert.True(msg.Length < 4 * SafeText.MaxExcerpt, $"{msg.Length} characters");
    }

    [Fact]
    public void AMissingFileIsOneError() =>
        Assert.Contains("not found", CliRunner.OneError(CliRunner.Run("layout", "@" + Path.Combine(_scratch.Path, "nope"))));

    [Fact]
    public void AfterDoubleDashAnAtIsLiteral()
    {
        // "--" ends the options; the word after it is an argument layout does not take: an error, not a file read.
        var r = CliRunner.Run("layout", "--", "@" + Path.Combine(_scratch.Path, "nope"));
        var msg = CliRunner.OneError(r);
        Assert.DoesNotContain("not found", msg);
    }
}
