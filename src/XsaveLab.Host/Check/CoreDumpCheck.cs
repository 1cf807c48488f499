namespace XsaveLab.Host.Check;

/// <summary>A core file the kernel writes for the probe child after it loaded known registers: the
/// NT_X86_XSAVE_LAYOUT records, the NT_X86_XSTATE length, and the registers decoded through the layout note.</summary>
public sealed class CoreDumpCheck : IHostCheckProvider
{
    public string Name => "core dump";

    private const ulong Seed = 0xC0DE_0005;

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        if (ctx.Launcher is null)
        {
            yield return Observable.Skipped("core NT_X86_XSAVE_LAYOUT", ctx.LauncherUnavailableReason);
            yield break;
        }
        if (LoadedRegistersCore.CannotDumpReason() is { } why)
        {
            yield return Observable.Skipped("core NT_X86_XSAVE_LAYOUT", why);
            yield break;
        }
        string dir = Directory.CreateTempSubdirectory("xsavelab-core-").FullName;
        try
        {
            foreach (var o in Checks(ctx, dir))
                yield return o;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static List<Observable> Checks(HostCheckContext ctx, string dir)
    {
        var list = new List<Observable>();
        var dump = LoadedRegistersCore.Produce(ctx.Launcher!, Seed, dir);
        var notes = ElfCoreFile.Read(dump.CorePath).NotesOrThrow();
        var xs = notes.FirstOrDefault(n => n.Type == NoteType.NtX86Xstate);
        if (xs is null)
        {
            list.Add(Observable.Compare("core NT_X86_XSTATE note", "present", "absent"));
            return list;
        }
        var cfg = ctx.Uabi(ChildModel.HardwareMxcsrMask(xs.Desc));
        list.Add(Observable.Compare("core NT_X86_XSTATE length", cfg.UserMaxSize.ToString(), xs.Desc.Length.ToString(), "the regset GET image (fpu_user_cfg.max_size)"));

        var layoutNote = notes.FirstOrDefault(n => n.Type == NoteType.NtX86XsaveLayout);
        var model = XsaveLayoutNote.Records(cfg);
        string Render(IEnumerable<XfeatComponent> rs) => string.Join(" ", rs.Select(r => $"{r.Type}:{r.Size}@{r.Offset}/{r.Flags}"));
        if (layoutNote is null)
            list.Add(Observable.Compare("core NT_X86_XSAVE_LAYOUT records", Render(model), "(no note)", "elf_coredump_extra_notes_write(), Linux 6.12+ (ba386777a30b)"));
        else
        {
            list.Add(Observable.Compare("core NT_X86_XSAVE_LAYOUT owner", Kernel.Uabi.CoreNotes.ElfNote.LinuxOwner, layoutNote.Name));
            list.Add(Observable.Compare("core NT_X86_XSAVE_LAYOUT records", Render(model), Render(XsaveLayoutNote.Decode(layoutNote.Desc)),
                "one {type,size,offset,flags=0} per extended feature of fpu_user_cfg.max_features"));
        }

        // Decode the core's registers (layout from the note when present) and compare with the model of the child.
        var decoded = XstateCoreDecoder.Decode(notes, xcr0 => model.Where(r => (xcr0 >> (int)r.Type & 1) != 0).ToArray());
        list.Add(Observable.Compare("core decoder layout source", layoutNote is null ? "host layout" : "NT_X86_XSAVE_LAYOUT", decoded.LayoutFromNote ? "NT_X86_XSAVE_LAYOUT" : "host layout"));
        var task = ChildModel.AfterLoad(cfg, SeededXstateImage.Build(Seed, UserXstateLayout.FromHost()));
        var expect = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        list.Add(Observable.Compare("core XMM0-15 (decoded)", ChildModel.Hex(expect.AsSpan(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize)), ChildModel.Hex(decoded.Component(1)!.Bytes)));
        foreach (var r in model)
        {
            var c = decoded.Component((int)r.Type);
            list.Add(Observable.Compare($"core component {r.Type} (decoded)", ChildModel.Hex(expect.AsSpan((int)r.Offset, (int)r.Size)), c is null ? "(absent)" : ChildModel.Hex(c.Bytes)));
        }
        return list;
    }
}
