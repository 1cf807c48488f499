using System.Buffers.Binary;
using System.Text;

namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>One ELF note: <c>Elf64_Nhdr</c> {n_namesz, n_descsz, n_type} (12 bytes), the NUL-terminated name and the
/// descriptor, each padded to 4 bytes (include/uapi/linux/elf.h, fs/binfmt_elf.c writenote()).</summary>
public sealed record ElfNote(string Name, int Type, byte[] Desc)
{
    public const int HeaderSize = 12;

    /// <summary>Owner name of Linux-specific notes (NT_X86_XSTATE, NT_X86_XSAVE_LAYOUT).</summary>
    public const string LinuxOwner = "LINUX";

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
    /// offset when a note runs past the end.</summary>
    public static IReadOnlyList<ElfNote> DecodeAll(ReadOnlySpan<byte> data, string source = "notes")
    {
        var list = new List<ElfNote>();
        int pos = 0;
        while (pos + HeaderSize <= data.Length)
        {
            int namesz = BinaryPrimitives.ReadInt32LittleEndian(data[pos..]);
            int descsz = BinaryPrimitives.ReadInt32LittleEndian(data[(pos + 4)..]);
            int type = BinaryPrimitives.ReadInt32LittleEndian(data[(pos + 8)..]);
            if (namesz < 0 || descsz < 0 || (long)pos + HeaderSize + Pad4(namesz) + descsz > data.Length)
                throw new FormatException($"{source}: note at offset {pos} (type 0x{type:X}) runs past the end of the segment");
            string name = namesz == 0 ? "" : Encoding.ASCII.GetString(data.Slice(pos + HeaderSize, namesz - 1));
            var desc = data.Slice(pos + HeaderSize + Pad4(namesz), descsz).ToArray();
            list.Add(new ElfNote(name, type, desc));
            pos += HeaderSize + Pad4(namesz) + Pad4(descsz);
        }
        return list;
    }

    private static int Pad4(int n) => (n + 3) & ~3;
}
