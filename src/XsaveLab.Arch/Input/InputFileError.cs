namespace XsaveLab.Arch.Input;

/// <summary>Why a user file could not be read.</summary>
public enum InputFileProblem
{
    /// <summary>The name is empty or holds a NUL character.</summary>
    BadName,
    NotFound,
    /// <summary>A directory, device, FIFO or socket.</summary>
    NotRegular,
    TooLarge,
    /// <summary>open(2) or read(2) failed for another reason (permission, I/O error, name too long).</summary>
    Unreadable,
    NotUtf8,
    LineTooLong,
}

/// <summary>A user file that cannot be read: the file, the 1-based line (0 for the file as a whole), what kind of
/// problem and a one-line message. The message quotes no more than a short, escaped excerpt of anything the file
/// system or the input supplied.</summary>
public sealed record InputFileError(string File, int Line, InputFileProblem Problem, string Message)
{
    /// <summary>For <see cref="InputFileProblem.NotRegular"/>: what the file is instead ("a FIFO").</summary>
    public string? FileType { get; init; }

    /// <summary>FILE[:LINE]: MESSAGE, with the file name escaped.</summary>
    public override string ToString() =>
        Line > 0 ? $"{BoundedTextFile.Excerpt(File, 200)}:{Line}: {Message}" : $"{BoundedTextFile.Excerpt(File, 200)}: {Message}";
}
