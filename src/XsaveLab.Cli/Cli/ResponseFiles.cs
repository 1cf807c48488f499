namespace XsaveLab.Cli.Cli;

/// <summary>Expands <c>@FILE</c> arguments (one or more arguments per line, <c>#</c> comment lines) before parsing,
/// with bounds the parser's own expansion lacks: only a regular file (not a directory, FIFO or <c>/dev/zero</c>), at
/// most <see cref="MaxBytes"/> bytes, nested at most <see cref="MaxDepth"/> deep, no file including itself, and
/// at most <see cref="MaxArguments"/> arguments in all. A file that breaks a bound is bad input.</summary>
public static class ResponseFiles
{
    /// <summary>A response file holds options, not data: 1 MiB is far more than any command line.</summary>
    public const int MaxBytes = 1 << 20;

    public const int MaxDepth = 8;

    public const int MaxArguments = 100_000;

    public static IReadOnlyList<string> Expand(IReadOnlyList<string> args)
    {
        var result = new List<string>(args.Count);
        Expand(args, result, []);
        return result;
    }

    private static void Expand(IReadOnlyList<string> args, List<string> result, List<string> including)
    {
        bool literal = false;
        foreach (var arg in args)
        {
            // After "--" every argument is literal, as the parser treats it.
            if (literal || arg.Length < 2 || arg[0] != '@')
            {
                literal |= arg == "--";
                Add(result, arg);
                continue;
            }
            string file = arg[1..];
            string full = FullPath(file);
            if (including.Contains(full))
                throw new UserErrorException($"response file {SafeText.Excerpt(file)} includes itself");
            if (including.Count >= MaxDepth)
                throw new UserErrorException($"response file {SafeText.Excerpt(file)}: nested more than {MaxDepth} deep");
            including.Add(full);
            Expand(Read(file, full), result, including);
            including.RemoveAt(including.Count - 1);
        }
    }

    private static void Add(List<string> result, string arg)
    {
        if (result.Count >= MaxArguments)
            throw new UserErrorException($"more than {MaxArguments} arguments (with response files expanded)");
        result.Add(arg);
    }

    private static string FullPath(string file)
    {
        try
        {
            if (file.Contains('\0'))
                throw new ArgumentException("NUL in the path");
            return Path.GetFullPath(file);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UserErrorException($"response file '{SafeText.Excerpt(file)}' is not a usable file name");
        }
    }

    private static List<string> Read(string file, string full)
    {
        string shown = SafeText.Excerpt(file);
        switch (FileKinds.Of(full))
        {
            case FileKind.Missing:
                throw new UserErrorException($"response file {shown} not found");
            case FileKind.Directory:
                throw new UserErrorException($"response file {shown} is a directory");
            case FileKind.Special:
                throw new UserErrorException($"response file {shown} is not a regular file (a device, FIFO or socket)");
        }
        string text;
        try
        {
            // Symbolic links are followed here (reading cannot replace anything); the target must be regular too.
            if (FileKinds.Of(Path.GetFullPath(new FileInfo(full).ResolveLinkTarget(true)?.FullName ?? full)) is not FileKind.Regular)
                throw new UserErrorException($"response file {shown} is not a regular file");
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.Length > MaxBytes)
                throw new UserErrorException($"response file {shown} is {Numbers.Bytes(stream.Length)}; at most {Numbers.Bytes(MaxBytes)} are read");
            var buffer = new byte[MaxBytes + 1];
            int n = 0, got;
            while (n < buffer.Length && (got = stream.Read(buffer, n, buffer.Length - n)) > 0)
                n += got;
            if (n > MaxBytes)
                throw new UserErrorException($"response file {shown} is over {Numbers.Bytes(MaxBytes)}");
            text = System.Text.Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"response file {shown}: {e.Message}");
        }
        var args = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            args.AddRange(CommandLineParser.SplitCommandLine(line));
        }
        return args;
    }
}
