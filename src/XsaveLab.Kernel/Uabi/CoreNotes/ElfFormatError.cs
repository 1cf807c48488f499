namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>Why a core file or note segment could not be read: the ELF field that is wrong and the file offset
/// it was read from (or would have been read from).</summary>
public sealed record ElfFormatError(string Source, string Field, long Offset, string Problem)
{
    public override string ToString() => $"{Source}: {Field} at offset {Offset}: {Problem}";
}

/// <summary>The notes of a core file, or the error that stopped the reading (then <see cref="Notes"/> holds
/// those read before it).</summary>
public sealed record ElfCoreNotes(IReadOnlyList<ElfNote> Notes, ElfFormatError? Error)
{
    public bool Ok => Error is null;

    /// <summary>The notes; <see cref="FormatException"/> with <see cref="Error"/>'s text when reading failed.</summary>
    public IReadOnlyList<ElfNote> NotesOrThrow() => Error is null ? Notes : throw new FormatException(Error.ToString());
}
