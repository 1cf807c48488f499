using System.Buffers.Binary;
using System.Text;

namespace XsaveLab.Host.Linux;

/// <summary>One ELF note: owner name (without the NUL), type and descriptor bytes.</summary>
public sealed record ElfNote(string Name, uint Type, byte[] Desc);

/// <summary>The notes of one thread in a core file: the NT_PRSTATUS that opens the group and the
/// notes up to the next NT_PRSTATUS.</summary>
public sealed record CoreThreadNotes(int Pid, int CurrentSignal, IReadOnlyList<ElfNote> Notes)
{
    public ElfNote? Find(uint type) => Notes.FirstOrDefault(n => n.Type == type);
}

/// <summary>One record of the NT_X86_XSAVE_LAYOUT note: <c>struct x86_xfeat_component</c>.</summary>
public readonly record struct XsaveLayoutRecord(uint Type, uint Size, uint Offset, uint Flags);

/// <summary>Reads the PT_NOTE segments of an ELF64 little-endian core file.</summary>
/// <remarks>ELF gABI: Elf64_Ehdr, Elf64_Phdr, note entries (namesz, descsz, type, name and desc each padded
/// to 4 bytes in core files). Linux writes per-thread groups starting with NT_PRSTATUS (dumping thread
/// first; <c>fill_note_info()</c> in fs/binfmt_elf.c); <c>elf_prstatus.pr_pid</c> is at offset 32 and
/// <c>pr_cursig</c> at 12 on x86-64. NT_X86_XSAVE_LAYOUT (0x205) is an array of 16-byte
/// <c>x86_xfeat_component {type, size, offset, flags}</c> (arch/x86/include/uapi/asm/elf.h).</remarks>
public static class ElfCoreNotes
{
    public const uint NtPrstatus = 1;
    public const uint NtPrfpreg = 2;
    public const uint NtPrpsinfo = 3;
    public const uint NtAuxv = 6;
    public const uint NtX86Xstate = 0x202;
    public const uint NtX86XsaveLayout = 0x205;

    private const uint PtNote = 4;
    private const int PnXnum = 0xFFFF;

    /// <summary>All notes of all PT_NOTE segments of <paramref name="path"/>, in file order. Malformed
    /// input throws <see cref="InvalidDataException"/> naming the file and field.</summary>
    public static IReadOnlyList<ElfNote> Read(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        string Where(string field) => $"{path}: {field}";
        var eh = ReadAt(fs, 0, 64, Where("ELF header"));
        if (eh[0] != 0x7F || eh[1] != (byte)'E' || eh[2] != (byte)'L' || eh[3] != (byte)'F')
            throw new InvalidDataException(Where("e_ident: not an ELF file"));
        if (eh[4] != 2 || eh[5] != 1)
            throw new InvalidDataException(Where($"e_ident: class {eh[4]} data {eh[5]}, expected ELF64 little-endian"));
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.AsSpan(32));
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.AsSpan(40));
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh.AsSpan(54));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(eh.AsSpan(56));
        if (phentsize < 56)
            throw new InvalidDataException(Where($"e_phentsize {phentsize} < 56"));
        if (phnum == PnXnum)
        {
            // More than 0xFFFE program headers: the real count is section header 0's sh_info.
            var sh0 = ReadAt(fs, (long)shoff, 64, Where("section header 0 (PN_XNUM)"));
            phnum = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh0.AsSpan(44));
        }
        var notes = new List<ElfNote>();
        for (int i = 0; i < phnum; i++)
        {
            var ph = ReadAt(fs, (long)phoff + (long)i * phentsize, 56, Where($"program header {i}"));
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != PtNote)
                continue;
            ulong off = BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(8));
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(32));
            if (size > int.MaxValue)
                throw new InvalidDataException(Where($"program header {i}: PT_NOTE p_filesz {size} too large"));
            var seg = ReadAt(fs, (long)off, (int)size, Where($"program header {i}: PT_NOTE segment"));
            notes.AddRange(Parse(seg, Where($"PT_NOTE segment {i}")));
        }
        return notes;
    }

    /// <summary>Parses a note segment (4-byte aligned entries).</summary>
    public static IReadOnlyList<ElfNote> Parse(ReadOnlySpan<byte> segment, string where = "note segment")
    {
        var notes = new List<ElfNote>();
        int pos = 0;
        while (pos + 12 <= segment.Length)
        {
            uint namesz = BinaryPrimitives.ReadUInt32LittleEndian(segment[pos..]);
            uint descsz = BinaryPrimitives.ReadUInt32LittleEndian(segment[(pos + 4)..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(segment[(pos + 8)..]);
            long nameStart = pos + 12L, descStart = nameStart + Align4(namesz), end = descStart + Align4(descsz);
            if (end > segment.Length)
                throw new InvalidDataException($"{where}: note at {pos} (type 0x{type:X}, namesz {namesz}, descsz {descsz}) runs past the segment end {segment.Length}");
            var name = segment.Slice((int)nameStart, (int)namesz);
            int nul = name.IndexOf((byte)0);
            notes.Add(new ElfNote(Encoding.ASCII.GetString(nul >= 0 ? name[..nul] : name), type, segment.Slice((int)descStart, (int)descsz).ToArray()));
            pos = (int)end;
        }
        return notes;
    }

    /// <summary>Groups notes into threads: each NT_PRSTATUS opens a group; notes before the first one
    /// (NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE) belong to the process and are left out.</summary>
    public static IReadOnlyList<CoreThreadNotes> Threads(IReadOnlyList<ElfNote> notes)
    {
        var threads = new List<CoreThreadNotes>();
        List<ElfNote>? current = null;
        int pid = 0, sig = 0;
        foreach (var n in notes)
        {
            if (n.Type == NtPrstatus && n.Name == "CORE" && n.Desc.Length >= 36)
            {
                if (current is not null)
                    threads.Add(new CoreThreadNotes(pid, sig, current));
                current = [n];
                sig = BinaryPrimitives.ReadInt16LittleEndian(n.Desc.AsSpan(12));
                pid = BinaryPrimitives.ReadInt32LittleEndian(n.Desc.AsSpan(32));
            }
            else
                current?.Add(n);
        }
        if (current is not null)
            threads.Add(new CoreThreadNotes(pid, sig, current));
        return threads;
    }

    /// <summary>Decodes an NT_X86_XSAVE_LAYOUT descriptor.</summary>
    public static IReadOnlyList<XsaveLayoutRecord> DecodeLayout(ReadOnlySpan<byte> desc)
    {
        if (desc.Length % 16 != 0)
            throw new InvalidDataException($"NT_X86_XSAVE_LAYOUT: descriptor size {desc.Length} is not a multiple of 16");
        var list = new List<XsaveLayoutRecord>();
        for (int i = 0; i < desc.Length; i += 16)
            list.Add(new XsaveLayoutRecord(
                BinaryPrimitives.ReadUInt32LittleEndian(desc[i..]),
                BinaryPrimitives.ReadUInt32LittleEndian(desc[(i + 4)..]),
                BinaryPrimitives.ReadUInt32LittleEndian(desc[(i + 8)..]),
                BinaryPrimitives.ReadUInt32LittleEndian(desc[(i + 12)..])));
        return list;
    }

    private static long Align4(uint n) => (n + 3L) & ~3L;

    private static byte[] ReadAt(FileStream fs, long offset, int count, string what)
    {
        if (offset < 0 || offset + count > fs.Length)
            throw new InvalidDataException($"{what}: bytes {offset}..{offset + count} beyond the end of the file ({fs.Length} bytes)");
        var buf = new byte[count];
        fs.Position = offset;
        fs.ReadExactly(buf);
        return buf;
    }
}
