namespace XsaveLab.Kernel.Tests.Uabi;

public class CoreNoteTests
{
    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Notes_written_as_elf_bytes_read_back_and_decode_to_the_registers(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        var task = UabiFixtures.RandomTask(cfg, new Random(11), inUse: cfg.UserMaxFeatures);
        var xs = XstateCoreDecoder.CreateXstateNote(cfg, task);
        var layout = XsaveLayoutNote.Create(cfg)!;
        var core = ElfCoreFile.WriteNotesOnly([xs, layout]);
        var notes = ElfCoreFile.ReadNotes(core);
        Assert.Equal(2, notes.Count);
        Assert.Equal(xs.Desc, notes[0].Desc);
        Assert.Equal("LINUX", notes[1].Name);
        Assert.Equal(0x205, notes[1].Type);
        // 12-byte header + "LINUX\0" padded to 8 + 16 bytes per extended user feature.
        int ext = System.Numerics.BitOperations.PopCount(cfg.UserMaxFeatures & ~3UL);
        Assert.Equal(12 + 8 + 16 * ext, layout.EncodedSize);
        var dec = XstateCoreDecoder.Decode(notes, _ => throw new InvalidOperationException("layout note must be used"));
        Assert.True(dec.LayoutFromNote);
        Assert.Equal(cfg.UserMaxFeatures, dec.Xcr0);
        foreach (var r in XsaveLayoutNote.Records(cfg).Where(r => (task.Fpstate.Xfeatures >> (int)r.Type & 1) != 0))
        {
            var c = dec.Component((int)r.Type)!;
            Assert.Equal(task.Fpstate.Buffer.AsSpan(cfg.KernelOffset(task.Fpstate.XcompBv, (int)r.Type), (int)r.Size).ToArray(), c.Bytes);
        }
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void Layout_note_beats_an_assumed_host_layout(bool withPkru)
    {
        // An AMD-style core (no MPX: AVX-512 right after YMM) read on a host that would assume the Intel
        // MPX-era layout. With PKRU the AMD image has gdb's known size 2440 and gdb's guess gets it right;
        // without PKRU (2432 bytes, this host's case) only the note gives the right offsets.
        var amd = CpuCatalog.All.FirstOrDefault(p => p.HasXsave && p.Component(5)?.StandardOffset == 832);
        var intel = CpuCatalog.All.FirstOrDefault(p => p.HasXsave && p.Component(5)?.StandardOffset == 1088);
        Skip.If(amd is null || intel is null, "catalog lacks an AVX-512 CPU with and one without MPX");
        var sysAmd = FpuSystem.Boot(amd!);
        ulong userMax = withPkru ? sysAmd.UserCfg.MaxFeatures | XsaveLab.Arch.Features.XFeatureMasks.Pkru : sysAmd.UserCfg.MaxFeatures & ~XsaveLab.Arch.Features.XFeatureMasks.Pkru;
        var cfgAmd = new UabiConfig(sysAmd, userMax, userMax, sysAmd.KernelCfg.MaxFeatures | (userMax & 0x200), 0xFFFF, 0xFFFF);
        var cfgIntel = UabiConfig.FromSystem(FpuSystem.Boot(intel!));
        var task = UabiFixtures.RandomTask(cfgAmd, new Random(5), inUse: cfgAmd.UserMaxFeatures);
        var notes = new[] { XstateCoreDecoder.CreateXstateNote(cfgAmd, task), XsaveLayoutNote.Create(cfgAmd)! };
        Assert.Equal(withPkru ? 2440 : 2432, notes[0].Desc.Length);
        IReadOnlyList<XfeatComponent> HostLayout(ulong xcr0) => XsaveLayoutNote.Records(cfgIntel).Where(r => (xcr0 >> (int)r.Type & 1) != 0).ToArray();
        var opmask = task.Fpstate.Buffer.AsSpan(cfgAmd.KernelOffset(task.Fpstate.XcompBv, 5), 64).ToArray();

        var withNote = XstateCoreDecoder.Decode(notes, HostLayout);
        Assert.Equal(LayoutSource.Note, withNote.Source);
        Assert.Equal(opmask, withNote.Component(5)!.Bytes);

        if (withPkru)
        {
            var guessed = XstateCoreDecoder.Decode(notes[0].Desc, null, HostLayout);
            Assert.Equal(LayoutSource.GdbGuess, guessed.Source);
            Assert.Equal(opmask, guessed.Component(5)!.Bytes);
            return;
        }
        try
        {
            var assumed = XstateCoreDecoder.Decode(notes[0].Desc, null, HostLayout);
            Assert.Equal(LayoutSource.Host, assumed.Source);
            Assert.NotEqual(opmask, assumed.Component(5)!.Bytes);
        }
        catch (FormatException ex)
        {
            Assert.Contains("lies beyond", ex.Message);
        }
    }

    [Fact]
    public void Gdb_guesses_follow_i387_guess_xsave_layout()
    {
        Assert.Equal(1088u, GdbXsaveLayouts.Guess(0x2E7, 2696)!.Single(r => r.Type == 5).Offset);
        Assert.Equal(832u, GdbXsaveLayouts.Guess(0x2E7, 2440)!.Single(r => r.Type == 5).Offset);
        Assert.Equal(1664u, GdbXsaveLayouts.Guess(0xE7, 2688)!.Single(r => r.Type == 7).Offset);
        Assert.Null(GdbXsaveLayouts.Guess(0xE7, 2432));
        Assert.Equal(2688u, GdbXsaveLayouts.Fallback(0x2E7).Single(r => r.Type == 9).Offset);
    }

    [Fact]
    public void Truncated_notes_are_reported_with_their_offset()
    {
        var n = new ElfNote("LINUX", 0x202, new byte[40]).Encode();
        var ex = Assert.Throws<FormatException>(() => ElfNote.DecodeAll(n.AsSpan(0, n.Length - 8), "core"));
        Assert.Contains("offset 0", ex.Message);
        BinaryPrimitives.WriteInt32LittleEndian(n.AsSpan(4), 4000);
        Assert.Throws<FormatException>(() => ElfNote.DecodeAll(n, "core"));
    }
}
