using XsaveLab.Arch.Catalog;
using XsaveLab.Kernel.Uabi.CoreNotes;

namespace XsaveLab.Kernel.Image;

/// <summary>A file holding XSAVE state — an ELF core (every thread's NT_X86_XSTATE) or one raw image — with the
/// layout it is read with. The entry point for programs:
/// <code>
/// var file = XsaveImageFile.Open("core.1234", new XsaveImageOptions(Cpu: CpuCatalog.Get("zen4-genoa")));
/// foreach (var thread in file.Threads)
///     Console.WriteLine($"{thread.Tid}: zmm16 = {thread.ReadRegisterHex("zmm16")}");
/// </code></summary>
/// <remarks>
/// The layout is looked for in this order: the core's NT_X86_XSAVE_LAYOUT note (Linux 6.12, ba386777a30b,
/// <c>elf_coredump_extra_notes_write()</c>); the CPU of <see cref="XsaveImageOptions.Cpu"/>; for a compacted image,
/// XCOMP_BV laid out with the catalog CPUs' component sizes and alignments (SDM Vol. 1 §13.4.3); else the image's
/// size, matched against every catalog CPU's standard layout (CPUID.(EAX=0DH,ECX=i):EBX offsets,
/// <c>xstate_calculate_size()</c>). When the CPUs a size or XCOMP_BV fits place components differently (AMD and
/// Intel at 2440 and 2696 bytes) the first in catalog order is used and a warning names the others.
/// </remarks>
public sealed class XsaveImageFile
{
    private XsaveImageFile(string source, ImageKind kind, ImageLayout layout, CpuProfile? cpu, IReadOnlyList<string> candidates,
        IReadOnlyList<XsaveImage> threads, IReadOnlyList<string> warnings)
    {
        Source = source;
        Kind = kind;
        Layout = layout;
        Cpu = cpu;
        Candidates = candidates;
        Threads = threads;
        Warnings = warnings;
    }

    /// <summary>The file name (or the name given for bytes).</summary>
    public string Source { get; }

    public ImageKind Kind { get; }

    /// <summary>The layout every image of the file is read with.</summary>
    public ImageLayout Layout { get; }

    /// <summary>The CPU of the layout (given, or the first the size fits); null for a layout note.</summary>
    public CpuProfile? Cpu { get; }

    /// <summary>Every catalog CPU the size (or XCOMP_BV) fits, when the layout was found that way.</summary>
    public IReadOnlyList<string> Candidates { get; }

    /// <summary>The images: one per thread of a core, one for a raw image.</summary>
    public IReadOnlyList<XsaveImage> Threads { get; }

    /// <summary>What the reader noticed and worked around (no layout note, CPUs that disagree, sizes that differ).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Reads <paramref name="path"/>; <see cref="FormatException"/> naming the field and offset when the file
    /// cannot be read as an XSAVE image.</summary>
    public static XsaveImageFile Open(string path, XsaveImageOptions? options = null) => Read(path, options).FileOrThrow();

    /// <summary>As <see cref="Open(string, XsaveImageOptions?)"/> for bytes in memory.</summary>
    public static XsaveImageFile Open(byte[] bytes, XsaveImageOptions? options = null, string source = "image") =>
        Read(bytes, source, options).FileOrThrow();

    /// <summary>Reads <paramref name="path"/>; never throws for any content of the file.</summary>
    public static ImageReadResult Read(string path, XsaveImageOptions? options = null)
    {
        options ??= XsaveImageOptions.Default;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (!fs.CanSeek)
                return Failed(path, "file", 0, "not a regular file");
            var magic = new byte[4];
            int n = fs.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            fs.Position = 0;
            if (n == 4 && IsElf(magic) && options.Kind is null or ImageKind.Core)
            {
                var core = ElfCoreFile.Read(fs, path);
                return core.Error is { } e ? new(null, e) : new Reader(path, options).Core(core.Notes);
            }
            if (fs.Length > XsaveImageOptions.MaxRawBytes)
                return Failed(path, "file size", 0, $"{Numbers.Bytes(fs.Length)}, more than the {Numbers.Bytes(XsaveImageOptions.MaxRawBytes)} an XSAVE image can have");
            var bytes = new byte[fs.Length];
            fs.ReadExactly(bytes);
            return new Reader(path, options).Raw(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return Failed(path, "file", 0, e.Message);
        }
    }

    /// <summary>Reads <paramref name="bytes"/> (not copied: writes through the images change them).</summary>
    public static ImageReadResult Read(byte[] bytes, string source, XsaveImageOptions? options = null)
    {
        options ??= XsaveImageOptions.Default;
        if (bytes.Length >= 4 && IsElf(bytes) && options.Kind is null or ImageKind.Core)
        {
            var core = ElfCoreFile.Read(bytes, source);
            return core.Error is { } e ? new(null, e) : new Reader(source, options).Core(core.Notes);
        }
        if (bytes.Length > XsaveImageOptions.MaxRawBytes)
            return Failed(source, "file size", 0, $"{Numbers.Bytes(bytes.Length)}, more than the {Numbers.Bytes(XsaveImageOptions.MaxRawBytes)} an XSAVE image can have");
        return new Reader(source, options).Raw(bytes);
    }

    private static bool IsElf(ReadOnlySpan<byte> b) => b[0] == 0x7F && b[1] == (byte)'E' && b[2] == (byte)'L' && b[3] == (byte)'F';

    private static ImageReadResult Failed(string source, string field, long offset, string problem) =>
        new(null, new ElfFormatError(source, field, offset, problem));

    /// <summary>The refusal of one input; thrown inside <see cref="Reader"/> only and turned into an
    /// <see cref="ImageReadResult"/> at its boundary.</summary>
    private sealed class Refusal(ElfFormatError error) : Exception(error.ToString())
    {
        public ElfFormatError Error { get; } = error;
    }

    /// <summary>The state of one read: the source name, the options and the warnings so far.</summary>
    private sealed class Reader(string source, XsaveImageOptions options)
    {
        private readonly List<string> _warnings = [];
        private readonly List<string> _candidates = [];
        private CpuProfile? _cpu;

        public ImageReadResult Core(IReadOnlyList<ElfNote> notes)
        {
            try
            {
                var images = new List<(int? Tid, byte[] Desc, string Where)>();
                foreach (var t in CoreThreadNotes.Group(notes))
                    if (t.Find(NoteType.NtX86Xstate) is { } xs)
                        images.Add((t.Pid, xs.Desc, $"{source}: thread {t.Pid} NT_X86_XSTATE"));
                if (images.Count == 0)
                    images.AddRange(notes.Where(n => n.Type == NoteType.NtX86Xstate)
                        .Select((n, k) => ((int?)null, n.Desc, $"{source}: NT_X86_XSTATE note {k}")));
                if (images.Count == 0)
                    Fail(source, "NT_X86_XSTATE", 0, "the core has no NT_X86_XSTATE note (no XSAVE state was written)");
                foreach (var (_, desc, where) in images)
                    CheckHeader(where, desc, ImageKind.Core);

                var layoutNote = notes.FirstOrDefault(n => n.Type == NoteType.NtX86XsaveLayout && n.Name == ElfNote.LinuxOwner);
                var first = images[0].Desc;
                ImageLayout layout;
                if (layoutNote is not null)
                    layout = FromNote(layoutNote.Desc);
                else
                {
                    if (options.Cpu is null)
                        _warnings.Add("no NT_X86_XSAVE_LAYOUT note (a kernel before 6.12, or gdb's gcore): the layout is inferred from the size, " +
                                      "and gdb before 14 writes AMD state at Intel offsets; give --cpu, --cpuid or --host for the CPU that wrote it");
                    layout = Discover(images[0].Where, first, ImageKind.Core, first.Length);
                }
                int shortest = images.Min(i => i.Desc.Length);
                layout = Fit(layout, shortest);
                var threads = images.Select(i => Image(i.Where, i.Desc, layout, ImageKind.Core, i.Tid)).ToList();
                return new(new XsaveImageFile(source, ImageKind.Core, layout, _cpu, _candidates, threads, _warnings), null);
            }
            catch (Refusal r)
            {
                return new(null, r.Error);
            }
        }

        public ImageReadResult Raw(byte[] bytes)
        {
            try
            {
                if (bytes.Length < XsaveOffsets.ExtendedStart)
                    Fail(source, "image", 0, $"{Numbers.Bytes(bytes.Length)}, fewer than the {XsaveOffsets.ExtendedStart} of the legacy region and XSAVE header");
                var kind = options.Kind ?? Guess(bytes);
                if (kind == ImageKind.Core)
                    Fail(source, "e_ident", 0, "not an ELF file (no \\x7FELF magic), but --kind core was given");
                CheckHeader(source, bytes, kind);
                int extent = bytes.Length;
                if (kind == ImageKind.Sigframe)
                    extent = SigframeExtent(bytes);
                var layout = Fit(Discover(source, bytes, kind, extent), extent);
                var image = Image(source, bytes, layout, kind, null);
                return new(new XsaveImageFile(source, kind, layout, _cpu, _candidates, [image], _warnings), null);
            }
            catch (Refusal r)
            {
                return new(null, r.Error);
            }
        }

        /// <summary>A raw file without <c>--kind</c>: a signal frame when FP_XSTATE_MAGIC1 is at 464, compacted
        /// (XSAVES with supervisor bits, else XSAVEC) when XCOMP_BV bit 63 is set, a KVM buffer at 4096 bytes, else
        /// an XSAVE area.</summary>
        private ImageKind Guess(byte[] b)
        {
            ulong xcompBv = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(XsaveOffsets.XcompBv));
            var kind = FpxSwBytes.Read(b).Magic1 == Sigframes.FpXstateMagic1 ? ImageKind.Sigframe
                : (xcompBv & XFeatureMasks.CompactedFormat) != 0
                    ? ((xcompBv & XFeatureTable.MaskOf(f => f.IsSupervisor)) != 0 ? ImageKind.Xsaves : ImageKind.Xsavec)
                : b.Length == 4096 ? ImageKind.Kvm : ImageKind.Xsave;
            _warnings.Add($"no --kind given: read as {ImageKinds.Name(kind)} (from its contents)");
            return kind;
        }

        /// <summary>Bytes of a signal frame's XSAVE image: <c>_fpx_sw_bytes.xstate_size</c>, checked as
        /// <c>check_xstate_in_sigframe()</c> reads it.</summary>
        private int SigframeExtent(byte[] b)
        {
            var sw = FpxSwBytes.Read(b);
            const int At = XsaveOffsets.SwReserved;
            if (sw.Magic1 != Sigframes.FpXstateMagic1)
                Fail(source, "fpx_sw_bytes.magic1", At, $"0x{sw.Magic1:x8}, not FP_XSTATE_MAGIC1 0x{Sigframes.FpXstateMagic1:x8}: an FXSAVE-only frame has no XSAVE state");
            if (sw.XstateSize < XsaveOffsets.ExtendedStart || sw.XstateSize > b.Length)
                Fail(source, "fpx_sw_bytes.xstate_size", At + 16, $"{sw.XstateSize}: outside {XsaveOffsets.ExtendedStart}..{b.Length} (the frame's bytes)");
            if (sw.ExtendedSize != sw.XstateSize + 4 || sw.XstateSize + 4 > b.Length
                || BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)sw.XstateSize)) != Sigframes.FpXstateMagic2)
                _warnings.Add($"{source}: no FP_XSTATE_MAGIC2 at xstate_size {sw.XstateSize} with extended_size {sw.ExtendedSize}: " +
                              "rt_sigreturn would restore only the legacy region");
            return (int)sw.XstateSize;
        }

        private void CheckHeader(string where, byte[] b, ImageKind kind)
        {
            if (b.Length < XsaveOffsets.ExtendedStart)
                Fail(where, "descriptor", 0, $"{Numbers.Bytes(b.Length)}, fewer than the {XsaveOffsets.ExtendedStart} of the legacy region and XSAVE header");
            ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(XsaveOffsets.XstateBv));
            ulong comp = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(XsaveOffsets.XcompBv));
            bool compacted = (comp & XFeatureMasks.CompactedFormat) != 0;
            if ((bv & XFeatureMasks.CompactedFormat) != 0)
                Fail(where, "XSTATE_BV", XsaveOffsets.XstateBv, $"0x{bv:x}: bit 63 is reserved (SDM Vol. 1 §13.4.2)");
            if (ImageKinds.IsCompacted(kind) && !compacted)
                Fail(where, "XCOMP_BV", XsaveOffsets.XcompBv, $"0x{comp:x}: bit 63 is clear, but {ImageKinds.Name(kind).ToUpperInvariant()} always writes the compacted format (SDM Vol. 1 §13.10)");
            if (!ImageKinds.IsCompacted(kind) && compacted)
                Fail(where, "XCOMP_BV", XsaveOffsets.XcompBv, $"0x{comp:x}: bit 63 set, a compacted image; give --kind xsavec or xsaves");
            if (compacted && (bv & ~comp) != 0)
                Fail(where, "XSTATE_BV", XsaveOffsets.XstateBv, $"0x{bv:x} has components {XFeatureTable.Describe(bv & ~comp)} outside XCOMP_BV 0x{comp:x}, so they have no place (SDM Vol. 1 §13.8.1)");
            if (!compacted && comp != 0)
                _warnings.Add($"{where}: XCOMP_BV 0x{comp:x} is not zero in a standard-format image (XRSTOR would fault)");
            int reserved = b.AsSpan(XsaveOffsets.HeaderReserved, XsaveOffsets.HeaderReservedSize).IndexOfAnyExcept((byte)0);
            if (reserved >= 0)
                _warnings.Add($"{where}: reserved header byte {XsaveOffsets.HeaderReserved + reserved} is not zero (XRSTOR would fault)");
        }

        /// <summary>The layout without a note: the given CPU, else XCOMP_BV or the size against the catalog.</summary>
        private ImageLayout Discover(string where, byte[] b, ImageKind kind, int extent)
        {
            ulong comp = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(XsaveOffsets.XcompBv));
            ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(XsaveOffsets.XstateBv));
            bool compacted = (comp & XFeatureMasks.CompactedFormat) != 0;
            ulong? hint = FeatureHint(b, kind);
            if (options.Cpu is { } cpu)
            {
                _cpu = cpu;
                if (compacted)
                {
                    ulong bad = XStateGeometry.Unsupported(cpu, comp);
                    if (bad != 0)
                        Fail(where, "XCOMP_BV", XsaveOffsets.XcompBv, $"0x{comp:x} names {XFeatureTable.Describe(bad)}, which {cpu.Name} does not enumerate");
                    return ImageLayout.ForCpu(cpu, comp, true, LayoutOrigin.Cpu);
                }
                ulong mask = StandardMask(cpu, hint, kind);
                var layout = ImageLayout.ForCpu(cpu, mask, false, LayoutOrigin.Cpu);
                if (kind != ImageKind.Kvm ? layout.Size != extent : layout.Size > extent)
                    _warnings.Add($"{where}: the image has {Numbers.Bytes(extent)}, but {cpu.Name}'s standard layout of {XFeatureTable.Describe(mask)} has {layout.Size}: " +
                                  $"it was written with another layout (gdb before 14 writes AMD state at Intel offsets); reading it with {cpu.Name}'s offsets");
                return layout;
            }
            var fits = new List<(CpuProfile Cpu, ImageLayout Layout)>();
            foreach (var c in CpuCatalog.All)
            {
                if (!c.HasXsave)
                    continue;
                if (compacted)
                {
                    if (XStateGeometry.Unsupported(c, comp) != 0 || !(kind == ImageKind.Xsaves ? c.HasXsaves : c.HasXsavec))
                        continue;
                    var l = ImageLayout.ForCpu(c, comp, true, LayoutOrigin.XcompBv);
                    if (l.Size <= extent)
                        fits.Add((c, l));
                }
                else
                {
                    ulong mask = StandardMask(c, hint, kind);
                    if ((hint is ulong h && (h & ~(c.SupportedXcr0 | XFeatureMasks.FpSse)) != 0) || (bv & ~mask) != 0)
                        continue;
                    var l = ImageLayout.ForCpu(c, mask, false, LayoutOrigin.Size);
                    if (kind == ImageKind.Kvm ? l.Size <= extent : l.Size == extent)
                        fits.Add((c, l));
                }
            }
            if (fits.Count == 0)
            {
                if (compacted)
                    Fail(where, "XCOMP_BV", XsaveOffsets.XcompBv, $"0x{comp:x}: no catalog CPU with {(kind == ImageKind.Xsaves ? "XSAVES" : "XSAVEC")} enumerates {XFeatureTable.Describe(comp & ~XFeatureMasks.CompactedFormat)} in {Numbers.Bytes(extent)}; give --cpu, --cpuid or --host");
                Fail(where, "image size", 0, $"{Numbers.Bytes(extent)} fit no catalog CPU's standard layout{(hint is ulong hh ? $" of XCR0 0x{hh:x}" : "")} holding XSTATE_BV 0x{bv:x}; give --cpu, --cpuid or --host");
            }
            _candidates.AddRange(fits.Select(f => f.Cpu.Name));
            _cpu = fits[0].Cpu;
            var groups = fits.GroupBy(f => f.Layout.Placement()).ToList();
            if (groups.Count > 1)
            {
                string what = compacted ? $"XCOMP_BV 0x{comp:x}" : $"the size {extent}";
                string parts = string.Join("; ", groups.Select(g => $"{string.Join(", ", g.Select(f => f.Cpu.Name))}: {Describe(g.First().Layout)}"));
                _warnings.Add($"{where}: {what} fits CPUs whose layouts disagree ({parts}); reading it with {fits[0].Cpu.Name}'s; give --cpu to choose");
            }
            return fits[0].Layout;
        }

        private static string Describe(ImageLayout l) =>
            string.Join(' ', l.Components.Where(c => c.Number >= 2).Select(c => $"{c.Info.ShortName}@{c.Offset}"));

        /// <summary>The user XCR0 the producer records: at byte 464 for ptrace, cores and KVM
        /// (<c>xstate_fx_sw_bytes</c>), <c>_fpx_sw_bytes.xfeatures</c> for a signal frame; null when absent.</summary>
        private static ulong? FeatureHint(byte[] b, ImageKind kind)
        {
            ulong v = kind switch
            {
                ImageKind.Core or ImageKind.Ptrace or ImageKind.Kvm => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(XsaveOffsets.SwReserved)),
                ImageKind.Sigframe => FpxSwBytes.Read(b).Xfeatures,
                _ => 0,
            };
            return v == 0 ? null : v | XFeatureMasks.FpSse;
        }

        private static ulong StandardMask(CpuProfile cpu, ulong? hint, ImageKind kind)
        {
            ulong user = cpu.SupportedXcr0 & XFeatureMasks.UserSupported;
            return hint is ulong h ? h & cpu.SupportedXcr0 : kind == ImageKind.Xsave ? cpu.SupportedXcr0 : user;
        }

        private ImageLayout FromNote(byte[] desc)
        {
            string where = $"{source}: NT_X86_XSAVE_LAYOUT";
            const int Rec = XfeatComponent.Sizeof;
            if (desc.Length % Rec != 0)
                Fail(where, "n_descsz", 0, $"{Numbers.Bytes(desc.Length)}, not a multiple of the {Numbers.Int(Rec)}-byte struct xfeat_component");
            var records = XsaveLayoutNote.Decode(desc);
            var placed = new List<ImageComponent>();
            for (int k = 0; k < records.Count; k++)
            {
                var r = records[k];
                int at = k * Rec;
                if (r.Type is < 2 or > 62)
                    Fail(where, $"record {k} type", at, $"{r.Type}: not an extended XSAVE component (2..62)");
                if (placed.Any(p => p.Number == r.Type))
                    Fail(where, $"record {k} type", at, $"component {r.Type} is described twice");
                if (r.Size == 0 || r.Size > XsaveImageOptions.MaxRawBytes)
                    Fail(where, $"record {k} size", at + 4, $"{r.Size}: not a component size");
                if (r.Offset < XsaveOffsets.ExtendedStart || r.Offset > XsaveImageOptions.MaxRawBytes)
                    Fail(where, $"record {k} offset", at + 8, $"{r.Offset}: components start after the header at {XsaveOffsets.ExtendedStart}");
                var c = new ImageComponent((int)r.Type, (int)r.Offset, (int)r.Size);
                if (placed.FirstOrDefault(p => p.Offset < c.End && c.Offset < p.End) is { Size: > 0 } o)
                    Fail(where, $"record {k} offset", at + 8, $"component {c.Number} at {c.Offset}..{c.End - 1} overlaps component {o.Number} at {o.Offset}..{o.End - 1}");
                placed.Add(c);
            }
            return ImageLayout.FromNote(records);
        }

        /// <summary>Drops components the image does not reach (when none of its images has them in use).</summary>
        private ImageLayout Fit(ImageLayout layout, int extent)
        {
            var beyond = layout.Components.Where(c => c.End > extent).ToList();
            if (beyond.Count == 0)
                return layout;
            _warnings.Add($"{source}: {string.Join(", ", beyond.Select(c => $"{c.Info.ShortName} ({Numbers.Int(c.Offset)}..{Numbers.Int(c.End - 1)})"))} lie beyond the {Numbers.Int(extent)}-byte image");
            var kept = layout.Components.Where(c => c.End <= extent).ToList();
            return layout with { Components = kept, Size = Math.Max(XsaveOffsets.ExtendedStart, kept.Where(c => c.Number >= 2).Select(c => c.End).DefaultIfEmpty(0).Max()) };
        }

        private static XsaveImage Image(string where, byte[] b, ImageLayout layout, ImageKind kind, int? tid)
        {
            ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(XsaveOffsets.XstateBv));
            ulong unplaced = bv & ~layout.Features;
            if (unplaced != 0)
                Fail(where, "XSTATE_BV", XsaveOffsets.XstateBv, $"0x{bv:x} has {XFeatureTable.Describe(unplaced)} in use, which the layout ({LayoutOriginName(layout.Origin)}) has no place for in {Numbers.Bytes(b.Length)}");
            return new XsaveImage(b, layout, kind, tid);
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        private static void Fail(string where, string field, long offset, string problem) =>
            throw new Refusal(new ElfFormatError(where, field, offset, problem));
    }

    /// <summary>The name of a layout origin on the command line and in JSON.</summary>
    public static string LayoutOriginName(LayoutOrigin origin) => origin switch
    {
        LayoutOrigin.Note => "note",
        LayoutOrigin.Cpu => "cpu",
        LayoutOrigin.XcompBv => "xcomp_bv",
        _ => "size",
    };
}
