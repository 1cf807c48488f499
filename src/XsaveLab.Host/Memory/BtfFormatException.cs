namespace XsaveLab.Host.Memory;

/// <summary>A BTF file that cannot be read: the file, the byte offset (-1 for the file as a whole) and what is
/// wrong, as one line.</summary>
public sealed class BtfFormatException(string file, long offset, string problem)
    : Exception(offset >= 0 ? $"{Arch.Input.BoundedTextFile.Excerpt(file, 200)}: offset 0x{offset:x}: {problem}" : $"{Arch.Input.BoundedTextFile.Excerpt(file, 200)}: {problem}")
{
    public string File { get; } = file;

    public long Offset { get; } = offset;
}
