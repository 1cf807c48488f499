using System.Buffers.Binary;
using XsaveLab.Arch.Catalog;
using XsaveLab.Kernel.Boot;
using XsaveLab.Kernel.Uabi;
using XsaveLab.Kernel.Uabi.CoreNotes;

namespace XsaveLab.Kernel.Tests.Uabi;

public class CoreNoteTests
{
    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Notes_written_as_elf_bytes_read_back_and_decode_to_the_registers(string cpu)
    {
        var cfg = UabiFixtures.Config(cpu);
        Skip.If(cfg is null, $"{cpu}: no XSAVE or catalog missing");
        var task = UabiFixtures.RandomTask(cfg!, new Random(11), inUse: cfg!.UserMaxFeatures);
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
            Assert.Equal(task.Fpstate.Regs.AsSpan(cfg.KernelOffset(task.Fpstate.XcompBv, (int)r.Type), (int)r.Size).ToArray(), c.Bytes);
        }
    }

    [Fact]
    public void Layout_note_beats_an_assumed_host_layout()
    {
        // An AMD-style core (no MPX: AVX-512 right after YMM) decoded on a host that would assume the Intel
        // MPX-era layout: only the note gives the right offsets.
        var amd = CpuCatalog.All.FirstOrDefault(p => p.HasXsave && p.Component(5)?.StandardOffset == 832);
        var intel = CpuCatalog.All.FirstOrDefault(p => p.HasXsave && p.Component(5)?.StandardOffset == 1088);
        Skip.If(amd is null || intel is null, "catalog lacks an AVX-512 CPU with and one without MPX");
        var cfgAmd = UabiConfig.FromSystem(FpuSystem.Boot(amd!));
        var cfgIntel = UabiConfig.FromSystem(FpuSystem.Boot(intel!));
        var task = UabiFixtures.RandomTask(cfgAmd, new Random(5), inUse: cfgAmd.UserMaxFeatures);
        var notes = new[] { XstateCoreDecoder.CreateXstateNote(cfgAmd, task), XsaveLayoutNote.Create(cfgAmd)! };
        IReadOnlyList<XfeatComponent> HostLayout(ulong xcr0) => XsaveLayoutNote.Records(cfgIntel).Where(r => (xcr0 >> (int)r.Type & 1) != 0).ToArray();

        var withNote = XstateCoreDecoder.Decode(notes, HostLayout);
        var opmask = task.Fpstate.Regs.AsSpan(cfgAmd.KernelOffset(task.Fpstate.XcompBv, 5), 64).ToArray();
        Assert.Equal(opmask, withNote.Component(5)!.Bytes);
        // Without the note the assumed layout either misplaces AVX-512 or does not even fit the image
        // (the AMD core is smaller than the Intel layout for the same XCR0 — gdb's old failure mode).
        try
        {
            var assumed = XstateCoreDecoder.Decode(notes[0].Desc, null, HostLayout);
            Assert.False(assumed.LayoutFromNote);
            Assert.NotEqual(opmask, assumed.Component(5)!.Bytes);
        }
        catch (FormatException ex)
        {
            Assert.Contains("lies beyond", ex.Message);
        }
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
