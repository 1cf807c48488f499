namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary><c>struct x86_xfeat_component</c> {u32 type, size, offset, flags} (16 bytes, packed).</summary>
public readonly record struct XfeatComponent(uint Type, uint Size, uint Offset, uint Flags)
{
    public const int Sizeof = 16;
}

/// <summary>The NT_X86_XSAVE_LAYOUT (0x205) core-dump note (arch/x86/kernel/fpu/xstate.c
/// <c>elf_coredump_extra_notes_write()</c> / <c>dump_xsave_layout_desc()</c>).</summary>
public static class XsaveLayoutNote
{
    /// <summary>One record per extended feature (bit ≥ 2) of fpu_user_cfg.max_features in ascending bit order:
    /// type = feature, size = xstate_sizes[i], offset = standard offset, flags = 0. No note when max_features = 0.</summary>
    public static IReadOnlyList<XfeatComponent> Records(UabiConfig cfg)
    {
        var list = new List<XfeatComponent>();
        ulong mask = cfg.UserMaxFeatures & XFeatureMasks.Extend;
        for (int i = 2; i < 64; i++)
            if ((mask >> i & 1) != 0)
                list.Add(new XfeatComponent((uint)i, (uint)cfg.Size(i), (uint)cfg.StandardOffset(i), 0));
        return list;
    }

    /// <summary>The note a core file of this kernel carries: none before ba386777a30b (6.12; the variant's
    /// <see cref="KernelVariant.WritesXsaveLayoutNote"/>), and none when max_features = 0.</summary>
    public static ElfNote? Create(UabiConfig cfg)
    {
        if (cfg.UserMaxFeatures == 0 || !cfg.WritesXsaveLayoutNote)
            return null;
        return new ElfNote(ElfNote.LinuxOwner, NoteType.NtX86XsaveLayout, Encode(Records(cfg)));
    }

    public static byte[] Encode(IReadOnlyList<XfeatComponent> records)
    {
        var b = new byte[records.Count * XfeatComponent.Sizeof];
        for (int k = 0; k < records.Count; k++)
        {
            var s = b.AsSpan(k * XfeatComponent.Sizeof);
            BinaryPrimitives.WriteUInt32LittleEndian(s, records[k].Type);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], records[k].Size);
            BinaryPrimitives.WriteUInt32LittleEndian(s[8..], records[k].Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(s[12..], records[k].Flags);
        }
        return b;
    }

    public static IReadOnlyList<XfeatComponent> Decode(ReadOnlySpan<byte> desc)
    {
        if (desc.Length % XfeatComponent.Sizeof != 0)
            throw new FormatException($"NT_X86_XSAVE_LAYOUT descriptor of {desc.Length} bytes is not a multiple of 16");
        var list = new List<XfeatComponent>();
        for (int p = 0; p < desc.Length; p += XfeatComponent.Sizeof)
            list.Add(new XfeatComponent(
                BinaryPrimitives.ReadUInt32LittleEndian(desc[p..]), BinaryPrimitives.ReadUInt32LittleEndian(desc[(p + 4)..]),
                BinaryPrimitives.ReadUInt32LittleEndian(desc[(p + 8)..]), BinaryPrimitives.ReadUInt32LittleEndian(desc[(p + 12)..])));
        return list;
    }
}
