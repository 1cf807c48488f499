namespace XsaveLab.Arch.Tests.Input;

/// <summary>The one reader of users' text files: regular files only (decided without blocking), the caller's size
/// and line limits, UTF-8, and errors as values naming the file and line.</summary>
public sealed class BoundedTextFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-input-").FullName;
    private static readonly TextFileLimits Small = new("a test file", 64, 8, "a test line");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Reads on a worker thread so that a reader that blocks fails the test instead of hanging it.</summary>
    private static InputFileError Refused(string path, TextFileLimits limits)
    {
        var error = SpecialFiles.Within(TimeSpan.FromSeconds(30), $"reading {path}",
            () => BoundedTextFile.TryRead(path, limits, out _, out var e) ? null : e);
        Assert.NotNull(error);
        Assert.Equal(path, error.File);
        Assert.DoesNotContain('\n', error.ToString());
        return error;
    }

    [SkippableFact]
    public void A_fifo_a_device_and_a_directory_are_refused_without_blocking()
    {
        string fifo = SpecialFiles.Fifo(_dir, "in.fifo");
        // No writer ever opens the FIFO: a blocking open() would never return.
        var e = Refused(fifo, Small);
        Assert.Equal(InputFileProblem.NotRegular, e.Problem);
        Assert.Equal("a FIFO", e.FileType);
        Assert.Contains("a test file must be a regular file", e.Message);
        Assert.Equal("a character device", Refused("/dev/zero", Small).FileType);
        Assert.Equal("a directory", Refused(_dir, Small).FileType);
    }

    [Fact]
    public void The_size_limit_is_the_callers_and_a_file_at_the_limit_is_read()
    {
        string atLimit = Write("at.txt", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("1234567\n", 8))));
        Assert.Equal(Small.MaxBytes, new FileInfo(atLimit).Length);
        Assert.True(BoundedTextFile.TryRead(atLimit, Small, out var text, out _));
        Assert.Equal(File.ReadAllText(atLimit), text);
        var e = Refused(Write("over.txt", new byte[Small.MaxBytes + 1]), Small);
        Assert.Equal(InputFileProblem.TooLarge, e.Problem);
        Assert.Contains($"the file is {Small.MaxBytes + 1} bytes; a test file is at most {Small.MaxBytes} bytes", e.Message);
    }

    [Fact]
    public void A_long_line_is_refused_with_its_number_and_a_trailing_CR_does_not_count()
    {
        string ok = Write("crlf.txt", Encoding.ASCII.GetBytes("12345678\r\nab\r\n"));
        Assert.True(BoundedTextFile.TryRead(ok, Small, out _, out _));
        var e = Refused(Write("long.txt", Encoding.ASCII.GetBytes("a\nb\n123456789\n")), Small);
        Assert.Equal((InputFileProblem.LineTooLong, 3), (e.Problem, e.Line));
        Assert.Equal("the line has 9 characters; a test line is at most 8", e.Message);
        Assert.Contains(":3: ", e.ToString());
    }

    [Fact]
    public void Invalid_UTF8_is_refused_only_when_the_caller_asks_and_a_byte_order_mark_is_dropped()
    {
        string bad = Write("bad.txt", [0x7B, 0xFF, 0xFE, 0x7D]);
        Assert.True(BoundedTextFile.TryRead(bad, Small, out _, out _));
        Assert.Equal(InputFileProblem.NotUtf8, Refused(bad, Small with { StrictUtf8 = true }).Problem);
        string bom = Write("bom.txt", [0xEF, 0xBB, 0xBF, (byte)'x']);
        Assert.True(BoundedTextFile.TryRead(bom, Small with { StrictUtf8 = true }, out var text, out _));
        Assert.Equal("x", text);
    }

    [Fact]
    public void Missing_files_and_unusable_names_are_values_not_exceptions()
    {
        Assert.Equal(InputFileProblem.NotFound, Refused(Path.Combine(_dir, "missing.txt"), Small).Problem);
        Assert.Equal(InputFileProblem.NotFound, Refused(Path.Combine(Write("f", [0x41]), "below-a-file"), Small).Problem);
        Assert.Equal(InputFileProblem.BadName, Refused("", Small).Problem);
        Assert.Equal(InputFileProblem.BadName, Refused("a\0b", Small).Problem);
    }

    [Fact]
    public void An_error_line_escapes_control_characters_in_the_file_name()
    {
        string path = Path.Combine(_dir, "x\u001b[31m\nline");
        var e = Refused(path, Small);
        Assert.DoesNotContain('\u001b', e.ToString());
        Assert.Contains("\\u001b", e.ToString());
    }
}
