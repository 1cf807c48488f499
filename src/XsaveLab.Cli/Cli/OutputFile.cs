namespace XsaveLab.Cli.Cli;

/// <summary>Writing a file named by an option (<c>--html</c>, <c>--output</c>): a path that cannot be written is a
/// <see cref="UserErrorException"/> naming the option and the path, not the writer's temporary file.</summary>
public static class OutputFile
{
    public static void Write(string option, string path, Action<string> write)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UserErrorException($"{option}: '{path}' is not a usable file name");
        }
        if (Directory.Exists(full))
            throw new UserErrorException($"{option}: cannot write {path}: it is a directory");
        if (Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir))
            throw new UserErrorException($"{option}: cannot write {path}: directory {dir} does not exist");
        try
        {
            write(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UserErrorException($"{option}: cannot write {path}: {e.Message}");
        }
    }
}
