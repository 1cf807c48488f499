namespace XsaveLab.Arch.Input;

/// <summary>Reads a user's text file (a CPUID dump, a VMM script, a cost model) with bounded memory and time: only
/// a regular file, at most the caller's size limit, optionally with a line-length limit. Problems are values
/// (<see cref="InputFileError"/>); each reader turns them into its own error type.</summary>
/// <remarks>On Linux the file is opened with O_NONBLOCK and its type taken with fstat() on the open descriptor
/// (open(2), fstat(2)): a FIFO would otherwise block open() until a writer appears, and a device such as
/// /dev/zero never ends. Checking the descriptor rather than the name leaves no window in which the file can be
/// swapped. Elsewhere the .NET file API is used and the size bound still applies.</remarks>
public static class BoundedTextFile
{
    private const int ORdOnly = 0, ONoCtty = 0x100, ONonBlock = 0x800, OCloExec = 0x80000;
    private const int SIfMt = 0xF000, SIfReg = 0x8000, SIfDir = 0x4000, SIfChr = 0x2000, SIfBlk = 0x6000, SIfIfo = 0x1000, SIfSock = 0xC000;

    /// <summary>Reads <paramref name="path"/> within <paramref name="limits"/>; on failure <paramref name="error"/>
    /// says why and nothing more than the limit was read.</summary>
    public static bool TryRead(string path, TextFileLimits limits, [NotNullWhen(true)] out string? text, [NotNullWhen(false)] out InputFileError? error)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(limits);
        text = null;
        error = Read(path, limits, ref text);
        return error is null;
    }

    /// <summary>Reads <paramref name="path"/> within <paramref name="limits"/>, or throws the reader's own exception
    /// made from the problem by <paramref name="toException"/>.</summary>
    public static string ReadOrThrow(string path, TextFileLimits limits, Func<InputFileError, Exception> toException)
    {
        ArgumentNullException.ThrowIfNull(toException);
        return TryRead(path, limits, out var text, out var error) ? text : throw toException(error);
    }

    /// <summary>Reads <paramref name="path"/> as bytes within <paramref name="limits"/> (the same checks as for text:
    /// a regular file, at most the size limit, nothing more read); for binary inputs such as XSAVE images.</summary>
    public static bool TryReadBytes(string path, TextFileLimits limits, [NotNullWhen(true)] out byte[]? bytes, [NotNullWhen(false)] out InputFileError? error)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(limits);
        error = ReadBytes(path, limits, out var buffer, out int total);
        bytes = error is null ? buffer.AsSpan(0, total).ToArray() : null;
        return error is null;
    }

    private static InputFileError? ReadBytes(string path, TextFileLimits limits, out byte[] buffer, out int total)
    {
        buffer = [];
        total = 0;
        if (path.Length == 0)
            return new(path, 0, InputFileProblem.BadName, "empty file name");
        if (path.Contains('\0'))
            return new(path, 0, InputFileProblem.BadName, "the file name contains a NUL character");
        var (handle, openError) = Open(path, limits);
        if (openError is not null)
            return openError;
        using (handle)
        {
            // The size was checked on the descriptor, but a file may grow while it is read: read one byte past the
            // limit and refuse if it is there.
            buffer = new byte[Math.Min(limits.MaxBytes + 1, 64 << 10)];
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length > limits.MaxBytes)
                        return TooLarge(path, limits, null);
                    Array.Resize(ref buffer, (int)Math.Min(limits.MaxBytes + 1L, buffer.Length * 2L));
                }
                int n;
                try
                {
                    n = RandomAccess.Read(handle!, buffer.AsSpan(total), total);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
                {
                    return new(path, 0, InputFileProblem.Unreadable, $"cannot read the file ({Excerpt(e.Message, 80)})");
                }
                if (n == 0)
                    break;
                total += n;
            }
        }
        return null;
    }

    private static InputFileError? Read(string path, TextFileLimits limits, ref string? text)
    {
        if (ReadBytes(path, limits, out var buffer, out int total) is { } readError)
            return readError;
        // As File.ReadAllText: UTF-8 unless a byte-order mark says otherwise (files saved on Windows may carry one).
        var encoding = limits.StrictUtf8 ? new UTF8Encoding(false, throwOnInvalidBytes: true) : Encoding.UTF8;
        try
        {
            using var reader = new StreamReader(new MemoryStream(buffer, 0, total), encoding, detectEncodingFromByteOrderMarks: true);
            text = reader.ReadToEnd();
        }
        catch (DecoderFallbackException)
        {
            return new(path, 0, InputFileProblem.NotUtf8, "not UTF-8 text");
        }
        return limits.MaxLineChars > 0 ? LongLine(path, text, limits) : null;
    }

    /// <summary>The first line (a trailing '\r' not counted) longer than the limit.</summary>
    private static InputFileError? LongLine(string path, string text, TextFileLimits limits)
    {
        foreach (var (number, line) in Lines(text))
            if (line.Length > limits.MaxLineChars)
                return new(path, number, InputFileProblem.LineTooLong,
                    $"the line has {line.Length} characters; {limits.LineNoun ?? limits.Noun + " line"} is at most {limits.MaxLineChars}");
        return null;
    }

    /// <summary>The lines of <paramref name="text"/> split at '\n' (a trailing '\r' dropped), numbered from 1;
    /// text ending in '\n' has a last, empty line.</summary>
    internal static IEnumerable<(int Number, ReadOnlyMemory<char> Text)> Lines(string text)
    {
        int start = 0, number = 0;
        while (start <= text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl;
            int len = end - start;
            if (len > 0 && text[end - 1] == '\r')
                len--;
            yield return (++number, text.AsMemory(start, len));
            if (nl < 0)
                yield break;
            start = nl + 1;
        }
    }

    /// <summary>At most <paramref name="max"/> characters of <paramref name="s"/>, control characters and
    /// direction overrides escaped, so a message stays one short line whatever the input holds.</summary>
    public static string Excerpt(string s, int max = 60)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder();
        foreach (char c in s)
        {
            if (sb.Length >= max)
                return sb.Append('…').ToString();
            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e'))
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else
                sb.Append(c);
        }
        return sb.ToString();
    }

    private static InputFileError TooLarge(string path, TextFileLimits limits, long? size) =>
        new(path, 0, InputFileProblem.TooLarge,
            $"the file is {(size is long s ? Numbers.Bytes(s) : "larger than the limit")}; {limits.Noun} is at most {Numbers.Int(limits.MaxBytes)} bytes ({limits.MaxBytesText})");

    private static InputFileError NotRegular(string path, TextFileLimits limits, int type) =>
        new(path, 0, InputFileProblem.NotRegular, $"is {Describe(type)}, not a regular file; {limits.Noun} must be a regular file")
        { FileType = Describe(type) };

    private static (SafeFileHandle? Handle, InputFileError? Error) Open(string path, TextFileLimits limits)
    {
        bool linux = OperatingSystem.IsLinux()
            && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;
        return linux ? OpenLinux(path, limits) : OpenPortable(path, limits);
    }

    private static (SafeFileHandle?, InputFileError?) OpenLinux(string path, TextFileLimits limits)
    {
        int fd = NativeOpen(path, ORdOnly | ONonBlock | OCloExec | ONoCtty);
        if (fd < 0)
            return (null, OpenError(path, Marshal.GetLastPInvokeError()));
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        // struct stat (asm-generic on arm64, x86_64's own): st_mode at 24 on x86_64, 16 on arm64; st_size at 48.
        var st = new byte[256];
        InputFileError? error = null;
        if (NativeFstat(fd, st) != 0)
            error = new(path, 0, InputFileProblem.Unreadable, $"cannot read the file ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
        else
        {
            int modeAt = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
            int type = (int)BinaryPrimitives.ReadUInt32LittleEndian(st.AsSpan(modeAt)) & SIfMt;
            long size = BinaryPrimitives.ReadInt64LittleEndian(st.AsSpan(48));
            if (type != SIfReg)
                error = NotRegular(path, limits, type);
            else if (size > limits.MaxBytes)
                error = TooLarge(path, limits, size);
        }
        if (error is null)
            return (handle, null);
        handle.Dispose();
        return (null, error);
    }

    private static (SafeFileHandle?, InputFileError?) OpenPortable(string path, TextFileLimits limits)
    {
        if (Directory.Exists(path))
            return (null, NotRegular(path, limits, SIfDir));
        try
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long size = RandomAccess.GetLength(handle);
            if (size <= limits.MaxBytes)
                return (handle, null);
            handle.Dispose();
            return (null, TooLarge(path, limits, size));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, new(path, 0, InputFileProblem.NotFound, "file not found"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return (null, new(path, 0, InputFileProblem.Unreadable, $"cannot read the file ({Excerpt(e.Message, 80)})"));
        }
    }

    private static InputFileError OpenError(string path, int errno) => errno switch
    {
        2 or 20 => new(path, 0, InputFileProblem.NotFound, "file not found"), // ENOENT, ENOTDIR
        13 => new(path, 0, InputFileProblem.Unreadable, "cannot read the file (permission denied)"),
        36 => new(path, 0, InputFileProblem.Unreadable, "the file name is too long"),
        _ => new(path, 0, InputFileProblem.Unreadable, $"cannot open the file ({Marshal.GetPInvokeErrorMessage(errno)})"),
    };

    private static string Describe(int type) => type switch
    {
        SIfDir => "a directory",
        SIfChr => "a character device",
        SIfBlk => "a block device",
        SIfIfo => "a FIFO",
        SIfSock => "a socket",
        _ => "not a plain file",
    };

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int NativeOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static extern int NativeFstat(int fd, byte[] buf);
}
