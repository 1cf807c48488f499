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

    /// <summary>A value of the wrong JSON kind, a document of the wrong shape or missing fields: the message says what the
    /// file should hold in JSON's words, never a .NET type name (System.Double, CostModelParameters …).</summary>
    [Theory]
    [InlineData("format", "3", "expected a string")]
    [InlineData("calibratedUtc", "\"yesterday\"", "expected a date and time string (ISO 8601)")]
    [InlineData("switchFixedNs", "true", "expected a number")]
    [InlineData("pairOverlapNs", "[1]", "expected an object")]
    [InlineData("save", "{\"xsave\": 3}", "expected an object")]
    [InlineData("$", "[1, 2]", "expected an object")]
    [InlineData("$", "{}", "missing required fields: ")]
    public void Bad_values_are_named_in_json_terms(string field, string value, string expected)
    {
        string json = field == "$" ? value : ReplaceField(ReferenceCostModel.Load().ToJson(), field, value);
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, json);
        var e = Refused(path);
        Assert.Contains(expected, e.Problem);
        Assert.DoesNotMatch(@"System\.|XsaveLab\.|`1|CostModelParameters", e.Message);
        if (field != "$")
            Assert.Contains(field, e.Field);
    }

    /// <summary>The document with one top-level field's value replaced.</summary>
    private static string ReplaceField(string json, string field, string value)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        Assert.True(node.ContainsKey(field), $"the reference model has no field '{field}'");
        node[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        return node.ToJsonString();
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
