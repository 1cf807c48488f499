using XsaveLab.Kernel.Uabi.CoreNotes;

namespace XsaveLab.Kernel.Image;

/// <summary>An image file as read, or the one error that stopped the reading: the field that is wrong and its offset
/// (<see cref="ElfFormatError"/>, the reader's error for every kind of file).</summary>
public sealed record ImageReadResult(XsaveImageFile? File, ElfFormatError? Error)
{
    public bool Ok => Error is null;

    /// <summary>The file; <see cref="FormatException"/> with the error's text when reading failed.</summary>
    public XsaveImageFile FileOrThrow() => File ?? throw new FormatException(Error!.ToString());
}
