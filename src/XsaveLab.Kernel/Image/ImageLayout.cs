using XsaveLab.Kernel.Uabi.CoreNotes;

namespace XsaveLab.Kernel.Image;

/// <summary>Where an image's layout was found, in the order <see cref="XsaveImageFile"/> looks.</summary>
public enum LayoutOrigin
{
    /// <summary>The core's NT_X86_XSAVE_LAYOUT note.</summary>
    Note,

    /// <summary>The CPU the caller named (<c>--cpu</c>, <c>--cpuid</c>, <c>--host</c>).</summary>
    Cpu,

    /// <summary>A compacted image's XCOMP_BV, laid out with the component sizes and alignments of the catalog CPUs
    /// that enumerate every component it names.</summary>
    XcompBv,

    /// <summary>The image's size, matched against the standard layouts of the catalog CPUs.</summary>
    Size,
}

/// <summary>One component's place in an image.</summary>
public readonly record struct ImageComponent(int Number, int Offset, int Size)
{
    public int End => Offset + Size;
    public XFeatureInfo Info => XFeatureTable.Get(Number);
}

/// <summary>The layout an image is read with: every component it has a place for (x87 and SSE always, at their
/// legacy offsets), the format and where the layout came from.</summary>
/// <param name="Origin">Where the layout was found.</param>
/// <param name="Cpu">The CPU whose layout it is (the first of several the size fits), null for a layout note.</param>
/// <param name="Compacted">Compacted format (XCOMP_BV bit 63), else standard.</param>
/// <param name="Size">End of the last component (at least the legacy region and header).</param>
/// <param name="Components">Components in ascending number.</param>
public sealed record ImageLayout(LayoutOrigin Origin, string? Cpu, bool Compacted, int Size, IReadOnlyList<ImageComponent> Components)
{
    /// <summary>The legacy region's two components (SDM Vol. 1 §10.5.1): x87 in bytes 0..159 (with the MXCSR
    /// words of SSE at 24..31 inside), SSE's XMM registers at 160..415.</summary>
    public static readonly IReadOnlyList<ImageComponent> Legacy =
        [new(0, XsaveOffsets.Fcw, XsaveOffsets.X87Size), new(1, XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize)];

    /// <summary>Features with a place in this layout.</summary>
    public ulong Features => Components.Aggregate(0UL, (m, c) => m | 1UL << c.Number);

    public ImageComponent? Find(int number) =>
        Components.FirstOrDefault(c => c.Number == number) is { Size: > 0 } c ? c : null;

    /// <summary>The layout of <paramref name="features"/> on <paramref name="cpu"/>: standard offsets
    /// (CPUID.(EAX=0DH,ECX=i):EBX), or the compacted form of XCOMP_BV = <paramref name="features"/>
    /// (<see cref="XStateGeometry.Offset"/>, SDM Vol. 1 §13.4.3). Components the CPU does not enumerate, and
    /// supervisor components in the standard form (they have no standard offset), are left out.</summary>
    public static ImageLayout ForCpu(CpuProfile cpu, ulong features, bool compacted, LayoutOrigin origin)
    {
        var list = new List<ImageComponent>(Legacy);
        ulong m = features & XFeatureMasks.Extend & (cpu.SupportedXcr0 | cpu.SupportedXss);
        for (int i = 2; i < 63; i++)
        {
            if ((m >> i & 1) == 0 || cpu.Component(i) is not { } c)
                continue;
            int off = XStateGeometry.Offset(cpu, m, i, compacted);
            if (off >= 0)
                list.Add(new ImageComponent(i, off, c.Size));
        }
        return new ImageLayout(origin, cpu.Name, compacted, End(list), list);
    }

    /// <summary>The layout an NT_X86_XSAVE_LAYOUT note describes (standard format).</summary>
    public static ImageLayout FromNote(IReadOnlyList<XfeatComponent> records)
    {
        var list = new List<ImageComponent>(Legacy);
        list.AddRange(records.Select(r => new ImageComponent((int)r.Type, (int)r.Offset, (int)r.Size)));
        return new ImageLayout(LayoutOrigin.Note, null, false, End(list), list);
    }

    /// <summary>The same placements under another origin and CPU name.</summary>
    public ImageLayout As(LayoutOrigin origin, string? cpu) => this with { Origin = origin, Cpu = cpu };

    /// <summary>The placements of the extended components, for comparing two layouts.</summary>
    public string Placement() => string.Join(' ', Components.Where(c => c.Number >= 2).Select(c => $"{c.Number}@{c.Offset}+{c.Size}"));

    private static int End(List<ImageComponent> list) =>
        Math.Max(XsaveOffsets.ExtendedStart, list.Where(c => c.Number >= 2).Select(c => c.End).DefaultIfEmpty(0).Max());
}
