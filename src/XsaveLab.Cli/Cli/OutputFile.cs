namespace XsaveLab.Cli.Cli;

/// <summary>Writing a file named by an option (<c>--html</c>, <c>-o</c>, <c>--output</c>). Only a regular file (new
/// or existing) is written: a device, FIFO, directory or symbolic link is refused, since the write goes through a
/// temporary file renamed over the target and would replace a device node (<c>/dev/null</c> as root), a FIFO or
/// the link itself with a regular file. <see cref="Check"/> runs before any work so that a bad target costs
/// nothing; <see cref="Write"/> checks again (the file system may have changed) and never leaves its temporary
/// file behind. Problems are <see cref="UserErrorException"/>s naming the option and the path.</summary>
public static class OutputFile
{
    /// <summary>Refuses a target that <see cref="Write"/> would refuse; nothing when <paramref name="path"/> is null
    /// (the option was not given).</summary>
    public static void Check(string option, string? path)
    {
        if (path is null)
            return;
        string full = FullPath(option, path);
        string shown = SafeText.Excerpt(path);
        switch (FileKinds.Of(full))
        {
            case FileKind.SymbolicLink:
                throw new UserErrorException($"{option}: will not write {shown}: it is a symbolic link (give the path it points to)");
            case FileKind.Directory:
                throw new UserErrorException($"{option}: cannot write {shown}: it is a directory");
            case FileKind.Special:
                throw new UserErrorException($"{option}: will not write {shown}: it is not a regular file (a device, FIFO or socket)");
        }
        if (Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir))
            throw new UserErrorException($"{option}: cannot write {shown}: directory {SafeText.Excerpt(dir)} does not exist");
    }

    /// <summary>Checks the target, lets <paramref name="write"/> write a file of the same name in a fresh private
    /// directory next to it, and renames that file over the target (same file system, so the rename is atomic). The
    /// directory is removed whatever happens, with anything the writer left in it (writers that use a temporary
    /// file of their own included).</summary>
    public static void Write(string option, string path, Action<string> write)
    {
        Check(option, path);
        string full = FullPath(option, path);
        string dir = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            string temp = Path.Combine(dir, Path.GetFileName(full));
            write(temp);
            Check(option, path);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UserErrorException($"{option}: cannot write {SafeText.Excerpt(path)}: {e.Message}");
        }
        finally
        {
            TryDelete(dir);
        }
    }

    /// <summary><see cref="Write"/> of a whole text (UTF-8, no byte-order mark).</summary>
    public static void WriteText(string option, string path, string text) =>
        Write(option, path, temp => File.WriteAllText(temp, text));

    private static string FullPath(string option, string path)
    {
        try
        {
            if (path.Length == 0 || path.Contains('\0'))
                throw new ArgumentException("empty or NUL in the path");
            return Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UserErrorException($"{option}: '{SafeText.Excerpt(path)}' is not a usable file name");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more can be done; the write itself already reported what went wrong.
        }
    }
}
