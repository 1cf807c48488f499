namespace XsaveLab.Sim.Tests.Cost;

/// <summary>The cost-model file reader on special files: a FIFO (which once blocked the reader forever), a device
/// and a directory are refused at once with one line naming the file.</summary>
public sealed class CostModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-costfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Loads on a worker thread so that a reader that blocks fails the test instead of hanging it.</summary>
    private static CostModelFormatException Refused(string path)
    {
        var e = SpecialFiles.Within(TimeSpan.FromSeconds(30), $"loading {path}",
            () => Assert.Throws<CostModelFormatException>(() => CostModelParameters.Load(path)));
        Assert.Equal(path, e.File);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [SkippableFact]
    public void A_fifo_is_refused_without_blocking()
    {
        string fifo = SpecialFiles.Fifo(_dir, "model.fifo");
        // No writer ever opens the FIFO: a blocking open() would never return.
        Assert.Contains("a FIFO, not a regular file", Refused(fifo).Problem);
    }

    [SkippableFact]
    public void A_device_is_refused_without_being_read()
    {
        Skip.IfNot(File.Exists("/dev/zero"), "no /dev/zero on this system");
        Assert.Contains("a character device, not a regular file", Refused("/dev/zero").Problem);
    }

    [Fact]
    public void A_directory_a_missing_file_and_a_file_over_the_limit_keep_their_messages()
    {
        Assert.Equal("is a directory", Refused(_dir).Problem);
        Assert.Equal("no such file", Refused(Path.Combine(_dir, "missing.json")).Problem);
        string big = Path.Combine(_dir, "big.json");
        File.WriteAllText(big, new string(' ', CostModelParameters.MaxFileBytes + 1));
        Assert.Equal($"larger than {CostModelParameters.MaxFileBytes / 1024} KiB: not a cost-model file", Refused(big).Problem);
    }

    [Fact]
    public void A_model_written_from_ToJson_loads_back()
    {
        var p = ReferenceCostModel.Load();
        string path = Path.Combine(_dir, "model.json");
        File.WriteAllText(path, p.ToJson());
        Assert.Equal(p.ToJson(), CostModelParameters.Load(path).ToJson());
    }
}
