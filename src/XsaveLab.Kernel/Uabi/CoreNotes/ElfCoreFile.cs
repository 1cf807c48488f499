using System.Buffers.Binary;

namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>Reads and writes the note part of an ELF64 little-endian core file (ET_CORE): the ELF header, the
/// program headers and the notes of every PT_NOTE segment (include/uapi/linux/elf.h).</summary>
public static class ElfCoreFile
{
    private const int PtNote = 4;
    private const int EtCore = 4;
    private const int EmX8664 = 62;

    /// <summary>All notes of all PT_NOTE segments. Throws <see cref="FormatException"/> naming the file and field.</summary>
    public static IReadOnlyList<ElfNote> ReadNotes(ReadOnlySpan<byte> file, string source = "core")
    {
        if (file.Length < 64 || file[0] != 0x7F || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
            throw new FormatException($"{source}: not an ELF file (e_ident)");
        if (file[4] != 2 || file[5] != 1)
            throw new FormatException($"{source}: e_ident: only ELFCLASS64 little-endian is supported");
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(file[32..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(file[54..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(file[56..]);
        var notes = new List<ElfNote>();
        for (int k = 0; k < phnum; k++)
        {
            long ph = (long)phoff + (long)k * phentsize;
            if (ph + 56 > file.Length)
                throw new FormatException($"{source}: program header {k} lies beyond the end of the file");
            var h = file.Slice((int)ph, 56);
            if (BinaryPrimitives.ReadUInt32LittleEndian(h) != PtNote)
                continue;
            ulong off = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(h[32..]);
            if (off + size > (ulong)file.Length)
                throw new FormatException($"{source}: PT_NOTE segment {k} (p_offset {off}, p_filesz {size}) lies beyond the end of the file");
            notes.AddRange(ElfNote.DecodeAll(file.Slice((int)off, (int)size), $"{source}: PT_NOTE {k}"));
        }
        return notes;
    }

    /// <summary>A minimal ET_CORE file holding one PT_NOTE segment with <paramref name="notes"/> (no memory
    /// segments) — enough for readers such as readelf -n and <see cref="ReadNotes"/>.</summary>
    public static byte[] WriteNotesOnly(IEnumerable<ElfNote> notes)
    {
        var seg = notes.SelectMany(n => n.Encode()).ToArray();
        const int ehsize = 64, phentsize = 56;
        var b = new byte[ehsize + phentsize + seg.Length];
        b[0] = 0x7F; b[1] = (byte)'E'; b[2] = (byte)'L'; b[3] = (byte)'F';
        b[4] = 2; b[5] = 1; b[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(16), EtCore);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), EmX8664);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), ehsize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(52), ehsize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(54), phentsize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(56), 1);
        var ph = b.AsSpan(ehsize);
        BinaryPrimitives.WriteUInt32LittleEndian(ph, PtNote);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], ehsize + phentsize);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)seg.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)seg.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 4);
        seg.CopyTo(b, ehsize + phentsize);
        return b;
    }
}
