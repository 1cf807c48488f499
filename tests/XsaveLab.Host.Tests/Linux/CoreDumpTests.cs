namespace XsaveLab.Host.Tests.Linux;

/// <summary>Core files of a child that loaded seeded registers: NT_X86_XSTATE and NT_X86_XSAVE_LAYOUT
/// (docs/linux-fpu-core.md, "User ABI").</summary>
public sealed class CoreDumpTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-core-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private LoadedRegistersCoreDump Dump(ulong seed)
    {
        var launcher = HostFacts.ChildLauncher();
        string? why = LoadedRegistersCore.CannotDumpReason();
        Skip.If(why is not null, why);
        return LoadedRegistersCore.Produce(launcher, seed, _dir);
    }

    [SkippableFact]
    public void Core_of_a_child_decodes_to_the_registers_it_loaded()
    {
        var dump = Dump(0xC0FE);
        Assert.Equal(4, dump.Exit.TermSignal); // SIGILL from ud2
        var threads = CoreThreadNotes.Group(ElfCoreFile.Read(dump.CorePath).NotesOrThrow());
        Assert.NotEmpty(threads);
        var main = threads[0]; // the dumping thread comes first
        Assert.Equal(dump.Pid, main.Pid);
        Assert.Equal(4, main.CurrentSignal);
        var xstate = main.Find(NoteType.NtX86Xstate);
        Assert.NotNull(xstate);
        Assert.Equal("LINUX", xstate.Name);
        var expected = SeededXstateImage.Build(dump.Seed, UserXstateLayout.FromHost());
        var diffs = expected.CompareWith(xstate.Desc);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
        // Decoding through the core's own layout note (when the kernel writes one) gives the same answer.
        var layoutNote = ElfCoreFile.Read(dump.CorePath).NotesOrThrow().FirstOrDefault(n => n.Type == NoteType.NtX86XsaveLayout);
        if (layoutNote is not null)
            Assert.Empty(expected.CompareWith(xstate.Desc, XsaveLayoutNote.Decode(layoutNote.Desc)));
        // Every thread carries its own NT_X86_XSTATE of the same length.
        Assert.All(threads, t => Assert.Equal(xstate.Desc.Length, t.Find(NoteType.NtX86Xstate)?.Desc.Length));
    }

    [SkippableFact]
    public void Core_has_the_xsave_layout_note_with_one_record_per_extended_user_feature()
    {
        var dump = Dump(1);
        var notes = ElfCoreFile.Read(dump.CorePath).NotesOrThrow();
        var layoutNotes = notes.Where(n => n.Type == NoteType.NtX86XsaveLayout).ToList();
        Skip.If(layoutNotes.Count == 0, "this kernel writes no NT_X86_XSAVE_LAYOUT note (added in 6.12)");
        Assert.Single(layoutNotes);
        Assert.Equal("LINUX", layoutNotes[0].Name);
        var records = XsaveLayoutNote.Decode(layoutNotes[0].Desc);
        var layout = UserXstateLayout.FromHost();
        var expected = Enumerable.Range(2, 62).Where(layout.Has)
            .Select(i => new XfeatComponent((uint)i, (uint)layout.Component(i).Size, (uint)layout.Component(i).Offset, 0))
            .ToList();
        Assert.Equal(expected, records);
    }

    [Fact]
    public void Parser_reads_padded_notes_of_a_synthetic_core()
    {
        string path = Path.Combine(_dir, "synthetic");
        File.WriteAllBytes(path, SyntheticCore(
            ("CORE", 1u, Prstatus(pid: 4242, sig: 11)),
            ("LINUX", 0x202u, [1, 2, 3, 4, 5]),
            ("LINUX", 0x205u, new byte[16])));
        var notes = ElfCoreFile.Read(path).NotesOrThrow();
        Assert.Equal(3, notes.Count);
        Assert.Equal(("LINUX", NoteType.NtX86Xstate), (notes[1].Name, notes[1].Type));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, notes[1].Desc);
        var t = Assert.Single(CoreThreadNotes.Group(notes));
        Assert.Equal((4242, 11), (t.Pid, t.CurrentSignal));
        Assert.Equal([new XfeatComponent(0, 0, 0, 0)], XsaveLayoutNote.Decode(notes[2].Desc));
    }

    [Fact]
    public void Parser_names_the_file_and_field_of_malformed_input()
    {
        string path = Path.Combine(_dir, "truncated");
        var bytes = SyntheticCore(("LINUX", 0x202u, new byte[64]));
        File.WriteAllBytes(path, bytes[..^40]);
        var e = Assert.Throws<FormatException>(() => ElfCoreFile.Read(path).NotesOrThrow());
        Assert.Contains(path, e.Message);
        Assert.Contains("PT_NOTE", e.Message);

        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("not an elf file at all, really not; more bytes to pad it out to 64...."));
        e = Assert.Throws<FormatException>(() => ElfCoreFile.Read(path).NotesOrThrow());
        Assert.Contains("e_ident", e.Message);
        Assert.Throws<FormatException>(() => XsaveLayoutNote.Decode(new byte[15]));
    }

    private static byte[] Prstatus(int pid, short sig)
    {
        var d = new byte[336];
        BitConverter.TryWriteBytes(d.AsSpan(12), sig);
        BitConverter.TryWriteBytes(d.AsSpan(32), pid);
        return d;
    }

    /// <summary>An ELF64 core header, one PT_NOTE program header and the notes (4-byte padding).</summary>
    private static byte[] SyntheticCore(params (string Name, uint Type, byte[] Desc)[] notes)
    {
        var seg = new MemoryStream();
        foreach (var (name, type, desc) in notes)
        {
            var nb = Encoding.ASCII.GetBytes(name + "\0");
            seg.Write(BitConverter.GetBytes(nb.Length));
            seg.Write(BitConverter.GetBytes(desc.Length));
            seg.Write(BitConverter.GetBytes(type));
            seg.Write(nb);
            seg.Write(new byte[(4 - nb.Length % 4) % 4]);
            seg.Write(desc);
            seg.Write(new byte[(4 - desc.Length % 4) % 4]);
        }
        var eh = new byte[64];
        "\x7F"u8.CopyTo(eh);
        "ELF"u8.CopyTo(eh.AsSpan(1));
        eh[4] = 2; eh[5] = 1; eh[6] = 1;
        BitConverter.TryWriteBytes(eh.AsSpan(16), (ushort)4);   // ET_CORE
        BitConverter.TryWriteBytes(eh.AsSpan(18), (ushort)62);  // EM_X86_64
        BitConverter.TryWriteBytes(eh.AsSpan(32), 64UL);        // e_phoff
        BitConverter.TryWriteBytes(eh.AsSpan(52), (ushort)64);  // e_ehsize
        BitConverter.TryWriteBytes(eh.AsSpan(54), (ushort)56);  // e_phentsize
        BitConverter.TryWriteBytes(eh.AsSpan(56), (ushort)1);   // e_phnum
        var ph = new byte[56];
        BitConverter.TryWriteBytes(ph.AsSpan(0), 4u);           // PT_NOTE
        BitConverter.TryWriteBytes(ph.AsSpan(8), 120UL);        // p_offset
        BitConverter.TryWriteBytes(ph.AsSpan(32), (ulong)seg.Length);
        BitConverter.TryWriteBytes(ph.AsSpan(48), 4UL);
        return [.. eh, .. ph, .. seg.ToArray()];
    }
}
