namespace XsaveLab.Cli.Tests;

/// <summary>Every command's JSON goes through one writer: one hex style (lower case, <c>0x</c>) and only the
/// escaping JSON requires, whichever layer formatted a value.</summary>
public sealed partial class JsonWriterTests
{
    [GeneratedRegex("\"0x[0-9a-fA-F]*[A-F][0-9a-fA-F]*\"")]
    private static partial Regex UpperHex();

    [Theory]
    [InlineData("0x20EE7", "0x20ee7")]
    [InlineData("0X1F", "0x1f")]
    [InlineData("0x20ee7", "0x20ee7")]
    [InlineData("0xZZ", "0xZZ")]
    [InlineData("0x", "0x")]
    [InlineData("XCR0 0x2E7", "XCR0 0x2E7")]
    public void HexStringsAreLowerCaseAndOtherStringsUntouched(string value, string written) =>
        Assert.Equal(written, HexStringConverter.Normalize(value));

    [Fact]
    public void TypesNotListedInTheSourceGeneratedContextAreRefused()
    {
        // No reflection fallback: a document the context does not describe cannot be written at all.
        var w = new StringWriter();
        Assert.Throws<NotSupportedException>(() => Json.Write(w, new { Mask = "0xABC" }));
        Assert.Equal("", w.ToString());
    }

    /// <summary>Commands whose JSON the theories below check, by command path.</summary>
    private static readonly string[] Checked =
        ["kvm", "compat", "layout", "boot", "cpus", "report", "experiment cet-s", "bench sim", "bench", "measure context-switch", "calibrate", "host check", "image decode", "image validate", "image convert", "image diff", "explore", "bench explore", "variants"];

    [Fact]
    public void EveryCommandWithJsonOutputIsChecked()
    {
        var root = Program.CreateRoot(new CliContext(TextWriter.Null, TextWriter.Null), Program.CommandFactories);
        var withJson = new List<string>();
        void Walk(System.CommandLine.Command c, string path)
        {
            if (c.Options.Any(o => o.Name == "--format"))
                withJson.Add(path);
            foreach (var sub in c.Subcommands)
                Walk(sub, path.Length == 0 ? sub.Name : $"{path} {sub.Name}");
        }
        Walk(root, "");
        Assert.NotEmpty(withJson);
        Assert.Empty(withJson.Except(Checked));
    }

    [Theory]
    [InlineData("kvm", "--cpu", "spr", "--format", "json")]
    [InlineData("kvm", "--cpu", "zen4-genoa", "--kernel", "6.15", "--format", "json")]
    [InlineData("layout", "--cpu", "spr", "--format", "json")]
    [InlineData("compat", "spr", "emr", "--format", "json")]
    [InlineData("compat", "--common", "spr", "zen4-genoa", "--format", "json")]
    [InlineData("boot", "--cpu", "emr", "--kernel", "case3", "--format", "json")]
    [InlineData("cpus", "--format", "json")]
    [InlineData("variants", "--format", "json")]
    [InlineData("boot", "--cpu", "spr", "--kernel", "6.15", "--format", "json")]
    [InlineData("explore", "--kernel", "6.17", "--depth", "1", "--format", "json")]
    [InlineData("bench", "explore", "--depth", "1", "--format", "json")]
    [InlineData("report", "--cpu", "spr", "--format", "json")]
    [InlineData("report", "--cpu", "nehalem", "--format", "json")]
    [InlineData("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--format", "json")]
    [InlineData("bench", "sim", "--cpu", "spr", "--tasks", "100", "--switches", "1000", "--format", "json")]
    public void OneHexStyleAndNoNeedlessEscapes(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        AssertWrittenByTheOneWriter(r.Out);
    }

    /// <summary>The image commands, which need a file: a ptrace image of the kernel model.</summary>
    [Theory]
    [InlineData("image", "decode", "--kind", "ptrace", "--cpu", "spr", "--format", "json")]
    [InlineData("image", "validate", "--for", "ptrace", "--cpu", "spr", "--format", "json")]
    [InlineData("image", "convert", "--kind", "ptrace", "--to", "compacted", "-o", "OUT", "--format", "json")]
    [InlineData("image", "diff", "--kind", "ptrace", "--format", "json")]
    public void ImageCommandsUseTheOneWriterToo(params string[] args)
    {
        string path = Path.Combine(Path.GetTempPath(), $"xsavelab-json-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, ImageCommandTests.PtraceImage("spr", 7));
        try
        {
            // diff compares the image with itself; convert writes next to it.
            string[] files = args[1] == "diff" ? [path, path] : [path];
            var r = CliRunner.Run([.. args[..2], .. files, .. args[2..].Select(a => a == "OUT" ? path + ".out" : a)]);
            Assert.True(r.ExitCode == 0, r.ToString());
            AssertWrittenByTheOneWriter(r.Out);
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".out");
        }
    }

    /// <summary>The commands that time or probe this machine, kept short; skipped where the machine cannot run them
    /// (exit 1 and an <c>error:</c> line saying why).</summary>
    [SkippableTheory]
    [InlineData("measure", "context-switch", "--mode", "threads", "--vectors", "init", "--runs", "1", "--seconds", "0.02", "--format", "json")]
    [InlineData("bench", "--format", "json")]
    [InlineData("calibrate", "--no-measure", "--format", "json")]
    [InlineData("host", "check", "--cases", "2", "--format", "json")]
    public void MeasuringCommandsUseTheOneWriterToo(params string[] args)
    {
        var r = CliRunner.Run(args);
        Skip.If(r.ExitCode == 1 && r.Out.Length == 0, $"not available here: {r.Err.Trim()}");
        Assert.True(r.ExitCode is 0 or 1, r.ToString());
        AssertWrittenByTheOneWriter(r.Out);
    }

    /// <summary>JSON, one hex style, only the escaping JSON requires, and laid out exactly as the one writer lays out
    /// any document (indented by two spaces, one trailing newline).</summary>
    private static void AssertWrittenByTheOneWriter(string output)
    {
        Assert.DoesNotMatch(UpperHex(), output);
        Assert.DoesNotContain("\\u00", output);
        Assert.DoesNotContain("\\u22", output);
        using var doc = JsonDocument.Parse(output);
        var layout = new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        Assert.Equal(JsonSerializer.Serialize(doc.RootElement, layout) + Environment.NewLine, output);
    }
}
