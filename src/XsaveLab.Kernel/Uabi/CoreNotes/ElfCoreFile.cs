namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>Reads and writes the note part of an ELF64 little-endian core file (ET_CORE): the ELF header, the
/// program headers and the notes of every PT_NOTE segment (include/uapi/linux/elf.h; the kernel writes them in
/// fs/binfmt_elf.c <c>elf_core_dump()</c>, gdb's gcore in gdb/gcore.c).</summary>
/// <remarks>
/// This hand-written reader is the only ELF reader in the code base. Two maintained libraries were tried on a
/// kernel core and a gcore of this machine: LibObjectFile 2.3.1 parses notes only in sections, and kernel cores
/// have none (e_shnum = 0), so it returns no notes at all; ELFSharp 2.17.3 reads both cores' PT_NOTE segments
/// correctly, but on mutated cores it throws IndexOutOfRange/Overflow/EndOfStream exceptions that name no field,
/// and one mutated kernel core made it loop for minutes. A reader of hostile files must answer every input
/// quickly with the field and offset that is wrong, which is this one: every size is checked as unsigned
/// against the file before anything is allocated, and the amount read is bounded
/// (<see cref="MaxNoteBytes"/>, <see cref="MaxNotes"/>, <see cref="MaxProgramHeaders"/>).
/// </remarks>
public static class ElfCoreFile
{
    /// <summary>Largest total of PT_NOTE bytes read from one file. A core's notes are a few KiB per thread
    /// (NT_X86_XSTATE is the largest, about 12 KiB with AMX): 64 MiB covers thousands of threads.</summary>
    public const long MaxNoteBytes = 64L << 20;

    /// <summary>Most notes read from one file (about a dozen per thread).</summary>
    public const int MaxNotes = 1 << 18;

    /// <summary>Most program headers looked at (e_phnum, or section 0's sh_info when e_phnum is PN_XNUM).</summary>
    public const int MaxProgramHeaders = 1 << 20;

    private const int EhdrSize = 64, PhdrSize = 56, ShdrSize = 64;
    private const int PtNote = 4;
    private const int EtCore = 4;
    private const int EmX8664 = 62;
    private const int PnXnum = 0xFFFF;

    /// <summary>All notes of all PT_NOTE segments of <paramref name="file"/>. Throws <see cref="FormatException"/>
    /// naming the source, field and offset of the first malformed part.</summary>
    public static IReadOnlyList<ElfNote> ReadNotes(ReadOnlySpan<byte> file, string source = "core") =>
        Read(file.ToArray(), source).NotesOrThrow();

    /// <summary>As <see cref="Read(Stream, string)"/> for the file at <paramref name="path"/>; a file that cannot
    /// be opened or read is an error too.</summary>
    public static ElfCoreNotes Read(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (!fs.CanSeek)
                return new([], new ElfFormatError(path, "file", 0, "not a regular file"));
            return Read(fs, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return new([], new ElfFormatError(path, "file", 0, e.Message));
        }
    }

    public static ElfCoreNotes Read(byte[] file, string source = "core") => Read(new MemoryStream(file, writable: false), source);

    /// <summary>All notes of all PT_NOTE segments of a seekable <paramref name="file"/>, in file order, or the
    /// first error. Never throws for any content of the file.</summary>
    public static ElfCoreNotes Read(Stream file, string source)
    {
        var notes = new List<ElfNote>();
        ElfCoreNotes Fail(string field, long offset, string problem) => new(notes, new ElfFormatError(source, field, offset, problem));
        long length = file.Length;
        var eh = new byte[EhdrSize];
        if (!ReadAt(file, 0, eh))
            return Fail("ELF header", 0, $"the file has {Numbers.Bytes(length)}, fewer than the {EhdrSize}-byte Elf64_Ehdr");
        if (eh[0] != 0x7F || eh[1] != (byte)'E' || eh[2] != (byte)'L' || eh[3] != (byte)'F')
            return Fail("e_ident", 0, "not an ELF file (no \\x7FELF magic)");
        if (eh[4] != 2 || eh[5] != 1)
            return Fail("e_ident", 4, $"class {eh[4]} data {eh[5]}: only ELFCLASS64 little-endian is supported");
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.AsSpan(32));
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.AsSpan(40));
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh.AsSpan(54));
        long phnum = BinaryPrimitives.ReadUInt16LittleEndian(eh.AsSpan(56));
        if (phnum == 0)
            return new(notes, null);
        if (phentsize < PhdrSize)
            return Fail("e_phentsize", 54, $"{phentsize}, smaller than the {PhdrSize}-byte Elf64_Phdr");
        if (phnum == PnXnum)
        {
            // More than 0xFFFE program headers: the real count is section header 0's sh_info.
            var sh0 = new byte[ShdrSize];
            if (shoff > (ulong)length || !ReadAt(file, (long)shoff, sh0))
                return Fail("e_shoff", 40, $"{shoff}: section header 0 (PN_XNUM) lies beyond the end of the file ({Numbers.Bytes(length)})");
            phnum = BinaryPrimitives.ReadUInt32LittleEndian(sh0.AsSpan(44));
            if (phnum > MaxProgramHeaders)
                return Fail("sh_info", (long)shoff + 44, $"{phnum} program headers, more than {MaxProgramHeaders}");
        }
        if (phoff > (ulong)length || (ulong)phnum * (ulong)phentsize > (ulong)length - phoff)
            return Fail("e_phoff", 32, $"{phoff}: {phnum} program headers of {Numbers.Bytes(phentsize)} run past the end of the file ({Numbers.Bytes(length)})");
        var ph = new byte[PhdrSize];
        long noteBytes = 0;
        for (long k = 0; k < phnum; k++)
        {
            long at = (long)phoff + k * phentsize;
            if (!ReadAt(file, at, ph))
                return Fail($"program header {k}", at, "truncated");
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != PtNote)
                continue;
            ulong off = BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(8));
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(32));
            if (off > (ulong)length)
                return Fail($"program header {k} (PT_NOTE) p_offset", at + 8, $"{off} lies beyond the end of the file ({Numbers.Bytes(length)})");
            if (size > (ulong)length - off)
                return Fail($"program header {k} (PT_NOTE) p_filesz", at + 32, $"{size} at p_offset {off} runs past the end of the file ({Numbers.Bytes(length)})");
            if (noteBytes + (long)size > MaxNoteBytes)
                return Fail($"program header {k} (PT_NOTE) p_filesz", at + 32, $"{size}: PT_NOTE segments of more than {Numbers.Bytes(MaxNoteBytes)} in all");
            noteBytes += (long)size;
            var seg = new byte[size];
            if (!ReadAt(file, (long)off, seg))
                return Fail($"program header {k} (PT_NOTE) p_offset", at + 8, "segment could not be read");
            if (ElfNote.Decode(seg, (long)off, $"{source}: PT_NOTE segment {k}", notes, MaxNotes) is { } error)
                return new(notes, error);
        }
        return new(notes, null);
    }

    /// <summary>A minimal ET_CORE file holding one PT_NOTE segment with <paramref name="notes"/> (no memory
    /// segments) — enough for readers such as readelf -n and <see cref="ReadNotes"/>.</summary>
    public static byte[] WriteNotesOnly(IEnumerable<ElfNote> notes)
    {
        var seg = notes.SelectMany(n => n.Encode()).ToArray();
        var b = new byte[EhdrSize + PhdrSize + seg.Length];
        b[0] = 0x7F; b[1] = (byte)'E'; b[2] = (byte)'L'; b[3] = (byte)'F';
        b[4] = 2; b[5] = 1; b[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(16), EtCore);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), EmX8664);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), EhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(52), EhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(54), PhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(56), 1);
        var ph = b.AsSpan(EhdrSize);
        BinaryPrimitives.WriteUInt32LittleEndian(ph, PtNote);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], EhdrSize + PhdrSize);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)seg.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)seg.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 4);
        seg.CopyTo(b, EhdrSize + PhdrSize);
        return b;
    }

    private static bool ReadAt(Stream file, long offset, byte[] buffer)
    {
        if (offset < 0 || offset > file.Length - buffer.Length)
            return false;
        file.Position = offset;
        try
        {
            file.ReadExactly(buffer);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }
}
