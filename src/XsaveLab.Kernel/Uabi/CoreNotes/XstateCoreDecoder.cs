namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>One component read out of a core file's NT_X86_XSTATE image.</summary>
public sealed record DecodedComponent(int Number, int Offset, byte[] Bytes, bool InUse);

/// <summary>Where a decoder took the component offsets from.</summary>
public enum LayoutSource
{
    /// <summary>The core's NT_X86_XSAVE_LAYOUT note.</summary>
    Note,

    /// <summary>The caller's assumption (this host's CPUID layout), used when the image has its size.</summary>
    Host,

    /// <summary>gdb's guess from XCR0 and the note size (gcore writes these layouts).</summary>
    GdbGuess,
}

/// <summary>The register content of an NT_X86_XSTATE note and where its layout came from.</summary>
public sealed record DecodedXstate(ulong Xcr0, ulong XstateBv, LayoutSource Source, IReadOnlyList<DecodedComponent> Components)
{
    public bool LayoutFromNote => Source == LayoutSource.Note;

    public DecodedComponent? Component(int number) => Components.FirstOrDefault(c => c.Number == number);

    /// <summary>Lower 128 bits of vector register n (XMM, from the legacy area).</summary>
    public byte[] Xmm(int n) => Component(1) is { } c ? c.Bytes.AsSpan(n * 16, 16).ToArray() : new byte[16];
}

/// <summary>Decodes NT_X86_XSTATE with the layout from NT_X86_XSAVE_LAYOUT when the core has it; otherwise the
/// caller's host layout when the image has exactly that layout's size, else gdb's guess by XCR0 and size
/// (<see cref="GdbXsaveLayouts"/>), else the host layout.</summary>
public static class XstateCoreDecoder
{
    public static DecodedXstate Decode(IReadOnlyList<ElfNote> notes, Func<ulong, IReadOnlyList<XfeatComponent>> fallbackLayout)
    {
        var xs = notes.FirstOrDefault(n => n.Type == NoteType.NtX86Xstate && n.Name is ElfNote.LinuxOwner or "CORE")
            ?? throw new FormatException("no NT_X86_XSTATE note");
        var layoutNote = notes.FirstOrDefault(n => n.Type == NoteType.NtX86XsaveLayout && n.Name == ElfNote.LinuxOwner);
        return Decode(xs.Desc, layoutNote is null ? null : XsaveLayoutNote.Decode(layoutNote.Desc), fallbackLayout);
    }

    public static DecodedXstate Decode(ReadOnlySpan<byte> image, IReadOnlyList<XfeatComponent>? layout,
        Func<ulong, IReadOnlyList<XfeatComponent>> fallbackLayout)
    {
        if (image.Length < XsaveOffsets.ExtendedStart)
            throw new FormatException($"NT_X86_XSTATE descriptor of {image.Length} bytes is shorter than {XsaveOffsets.ExtendedStart}");
        ulong xcr0 = BinaryPrimitives.ReadUInt64LittleEndian(image[XsaveOffsets.SwReserved..]);
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(image[XsaveOffsets.XstateBv..]);
        var source = LayoutSource.Note;
        if (layout is null)
        {
            var host = fallbackLayout(xcr0);
            int hostSize = host.Count == 0 ? XsaveOffsets.ExtendedStart : host.Max(r => (int)(r.Offset + r.Size));
            var guess = hostSize == image.Length ? null : GdbXsaveLayouts.Guess(xcr0, image.Length);
            (layout, source) = guess is null ? (host, LayoutSource.Host) : (guess, LayoutSource.GdbGuess);
        }
        var comps = new List<DecodedComponent>
        {
            new(0, 0, image[..160].ToArray(), (bv & XFeatureMasks.Fp) != 0),
            new(1, XsaveOffsets.XmmSpace, image.Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize).ToArray(), (bv & XFeatureMasks.Sse) != 0),
        };
        foreach (var r in layout)
        {
            if ((ulong)r.Offset + r.Size > (ulong)image.Length) // in 64 bits: offset + size of two u32 fields can wrap
                throw new FormatException($"layout record for component {r.Type} (offset {r.Offset}, size {r.Size}) lies beyond the {image.Length}-byte image");
            comps.Add(new((int)r.Type, (int)r.Offset, image.Slice((int)r.Offset, (int)r.Size).ToArray(), (bv >> (int)r.Type & 1) != 0));
        }
        return new DecodedXstate(xcr0, bv, source, comps);
    }

    /// <summary>The NT_X86_XSTATE note the kernel writes for a task (the regset GET image, owner "LINUX").</summary>
    public static ElfNote CreateXstateNote(UabiConfig cfg, UabiTask task)
    {
        var r = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, PtraceRegsets.Length(cfg, NoteType.NtX86Xstate));
        return new ElfNote(ElfNote.LinuxOwner, NoteType.NtX86Xstate, r.Data);
    }
}
