namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>One ELF note: <c>Elf64_Nhdr</c> {n_namesz, n_descsz, n_type} (12 bytes), the NUL-terminated name and the
/// descriptor, each padded to 4 bytes (include/uapi/linux/elf.h, fs/binfmt_elf.c writenote()). <see cref="Type"/>
/// is n_type as the kernel's <c>int</c>: vendor types such as gdb's 0xFF000000 read as negative.</summary>
public sealed record ElfNote(string Name, int Type, byte[] Desc)
{
    public const int HeaderSize = 12;

    /// <summary>Owner name of Linux-specific notes (NT_X86_XSTATE, NT_X86_XSAVE_LAYOUT).</summary>
    public const string LinuxOwner = "LINUX";

    /// <summary>Owner name of the notes every core has (NT_PRSTATUS, NT_PRFPREG, NT_PRPSINFO, NT_AUXV…).</summary>
    public const string CoreOwner = "CORE";

    public int NameSize => Encoding.ASCII.GetByteCount(Name) + 1;

    /// <summary>Bytes this note occupies: header + name padded to 4 + descriptor padded to 4.</summary>
    public int EncodedSize => HeaderSize + Pad4(NameSize) + Pad4(Desc.Length);

    public byte[] Encode()
    {
        var b = new byte[EncodedSize];
        BinaryPrimitives.WriteInt32LittleEndian(b, NameSize);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), Desc.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(8), Type);
        Encoding.ASCII.GetBytes(Name, b.AsSpan(HeaderSize));
        Desc.CopyTo(b, HeaderSize + Pad4(NameSize));
        return b;
    }

    /// <summary>Parses a sequence of notes (a PT_NOTE segment). Throws <see cref="FormatException"/> naming the
    /// field and offset when a note runs past the end.</summary>
    public static IReadOnlyList<ElfNote> DecodeAll(ReadOnlySpan<byte> data, string source = "notes")
    {
        var notes = new List<ElfNote>();
        var error = Decode(data, 0, source, notes, int.MaxValue);
        return error is null ? notes : throw new FormatException(error.ToString());
    }

    /// <summary>Appends the notes of <paramref name="segment"/> (which starts at file offset
    /// <paramref name="fileOffset"/>) to <paramref name="into"/>; the error of the first malformed note, or
    /// null. Never throws: n_namesz and n_descsz are checked as unsigned 32-bit values against the segment.</summary>
    public static ElfFormatError? Decode(ReadOnlySpan<byte> segment, long fileOffset, string source, List<ElfNote> into, int maxNotes)
    {
        int pos = 0;
        while (pos + HeaderSize <= segment.Length)
        {
            uint namesz = BinaryPrimitives.ReadUInt32LittleEndian(segment[pos..]);
            uint descsz = BinaryPrimitives.ReadUInt32LittleEndian(segment[(pos + 4)..]);
            int type = BinaryPrimitives.ReadInt32LittleEndian(segment[(pos + 8)..]);
            long nameStart = pos + (long)HeaderSize, descStart = nameStart + Pad4(namesz);
            if (descStart > segment.Length)
                return new(source, "n_namesz", fileOffset + pos, $"{namesz} (note at offset {fileOffset + pos}, type 0x{type:x}) runs past the end of the segment ({Numbers.Bytes(segment.Length)})");
            if (descStart + descsz > segment.Length)
                return new(source, "n_descsz", fileOffset + pos + 4, $"{descsz} (note at offset {fileOffset + pos}, type 0x{type:x}) runs past the end of the segment ({Numbers.Bytes(segment.Length)})");
            if (into.Count >= maxNotes)
                return new(source, "note", fileOffset + pos, $"more than {maxNotes} notes");
            var name = segment.Slice((int)nameStart, (int)namesz);
            int nul = name.IndexOf((byte)0);
            into.Add(new ElfNote(Encoding.ASCII.GetString(nul >= 0 ? name[..nul] : name), type, segment.Slice((int)descStart, (int)descsz).ToArray()));
            pos = (int)Math.Min(descStart + Pad4(descsz), segment.Length);
        }
        return null;
    }

    private static int Pad4(int n) => (n + 3) & ~3;

    private static long Pad4(uint n) => (n + 3L) & ~3L;
}
