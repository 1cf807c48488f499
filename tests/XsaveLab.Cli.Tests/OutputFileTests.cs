namespace XsaveLab.Cli.Tests;

/// <summary>Files named by output options: only regular files are written, a bad target is refused before any
/// work (exit 2, one error line) and left as it was, and no temporary file stays behind.</summary>
public sealed class OutputFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-out-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string MakeFifo()
    {
        string path = Path.Combine(_dir, "fifo");
        using var p = Process.Start(new ProcessStartInfo("mkfifo", path) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return path;
    }

    // cpu nehalem has no XSAVE, so a report would not even run the experiment: the target is checked before that.
    [SkippableFact]
    public void AFifoIsRefusedAndLeftAsItWas()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "mkfifo needs Linux");
        string fifo = MakeFifo();
        var msg = CliRunner.OneError(CliRunner.Run("report", "--cpu", "spr", "--html", fifo));
        Assert.Contains("not a regular file", msg);
        Assert.Equal(FileKind.Special, FileKinds.Of(fifo));
        Assert.Equal([fifo], Directory.GetFileSystemEntries(_dir));
    }

    [SkippableFact]
    public void ASymlinkIsRefusedAndNeitherItNorItsTargetChanges()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links as on Linux");
        string target = Path.Combine(_dir, "target.html");
        File.WriteAllText(target, "keep");
        string link = Path.Combine(_dir, "link.html");
        File.CreateSymbolicLink(link, target);
        var msg = CliRunner.OneError(CliRunner.Run("report", "--cpu", "spr", "--html", link));
        Assert.Contains("symbolic link", msg);
        Assert.Equal(FileKind.SymbolicLink, FileKinds.Of(link));
        Assert.Equal("keep", File.ReadAllText(target));
        Assert.Equal(2, Directory.GetFileSystemEntries(_dir).Length);
    }

    /// <summary>/dev/null is used only through the refusal path: the check runs before anything is written.</summary>
    [SkippableFact]
    public void DevNullIsRefused()
    {
        Skip.IfNot(File.Exists("/dev/null") && FileKinds.Of("/dev/null") == FileKind.Special, "no character device /dev/null here");
        var msg = CliRunner.OneError(CliRunner.Run("report", "--cpu", "spr", "--html", "/dev/null"));
        Assert.Contains("not a regular file", msg);
        Assert.Equal(FileKind.Special, FileKinds.Of("/dev/null"));
    }

    [Fact]
    public void ADirectoryIsRefused()
    {
        var msg = CliRunner.OneError(CliRunner.Run("report", "--cpu", "spr", "--html", _dir));
        Assert.Contains("directory", msg);
    }

    [Fact]
    public void TheCheckComesBeforeTheWork()
    {
        // A CPU whose kernel section cannot run makes the report fail after the work; a bad target must be found first.
        string dump = Path.Combine(_dir, "nofxsr.txt");
        File.WriteAllText(dump, ReportHtmlTests.WithoutFxsr);
        var msg = CliRunner.OneError(CliRunner.Run("report", "--cpuid", dump, "--html", _dir));
        Assert.Contains("directory", msg);
    }

    [Fact]
    public void AWriteThatFailsLeavesNoTemporaryFile()
    {
        string target = Path.Combine(_dir, "out.json");
        var e = Assert.Throws<UserErrorException>(() => OutputFile.Write("--output", target, p =>
        {
            File.WriteAllText(p, "partial");
            throw new IOException("disk full");
        }));
        Assert.Contains("disk full", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    /// <summary>Writers with a temporary file of their own (PATH.tmp, renamed to PATH) leave nothing either.</summary>
    [Fact]
    public void AWriterWithItsOwnTemporaryFileLeavesNothingWhenItFails()
    {
        string target = Path.Combine(_dir, "out.html");
        Assert.Throws<UserErrorException>(() => OutputFile.Write("--html", target, p =>
        {
            File.WriteAllText(p + ".tmp", "partial");
            throw new UnauthorizedAccessException("denied");
        }));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [SkippableFact]
    public void CalibrateChecksItsOutputBeforeCalibrating()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "mkfifo needs Linux");
        string fifo = MakeFifo();
        var r = CliRunner.Run("calibrate", "-o", fifo);
        Assert.Contains("not a regular file", CliRunner.OneError(r));
        Assert.Equal(FileKind.Special, FileKinds.Of(fifo));
    }

    /// <summary>experiment cet-s --html and catalog import --out check their target before any work too: the
    /// experiment on a CPU without XSAVE and a dump that does not exist would fail otherwise, with another message.</summary>
    [SkippableFact]
    public void ExperimentAndCatalogImportCheckTheirTargetFirst()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links as on Linux");
        string target = Path.Combine(_dir, "target");
        File.WriteAllText(target, "keep");
        string html = Path.Combine(_dir, "link.html"), profile = Path.Combine(_dir, "x.cpuid");
        File.CreateSymbolicLink(html, target);
        File.CreateSymbolicLink(profile, target);
        var msg = CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "nehalem", "--no-measure", "--html", html));
        Assert.Contains("--html", msg);
        Assert.Contains("symbolic link", msg);
        msg = CliRunner.OneError(CliRunner.Run("catalog", "import", Path.Combine(_dir, "no-such-dump"), "--name", "x", "--description", "d", "--out", _dir));
        Assert.Contains("--out", msg);
        Assert.Contains("symbolic link", msg);
        Assert.Equal("keep", File.ReadAllText(target));
        Assert.Equal(3, Directory.GetFileSystemEntries(_dir).Length);
    }

    [Fact]
    public void AWriteReplacesARegularFileAndLeavesNothingElse()
    {
        string target = Path.Combine(_dir, "out.json");
        File.WriteAllText(target, "old");
        OutputFile.Write("--output", target, p => File.WriteAllText(p, "new"));
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFileSystemEntries(_dir));
    }

    [SkippableFact]
    public void WriteRefusesAFifoWithoutTouchingIt()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "mkfifo needs Linux");
        string fifo = MakeFifo();
        bool wrote = false;
        Assert.Throws<UserErrorException>(() => OutputFile.Write("-o", fifo, _ => wrote = true));
        Assert.False(wrote);
        Assert.Equal(FileKind.Special, FileKinds.Of(fifo));
        Assert.Equal([fifo], Directory.GetFileSystemEntries(_dir));
    }
}
