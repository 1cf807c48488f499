namespace XsaveLab.Arch.Layout;

/// <summary>Where one component sits in an area.</summary>
public readonly record struct ComponentPlacement(XComponent Component, XFeatureInfo Info, int Offset)
{
    public int Number => Component.Number;
    public int Size => Component.Size;
    public int End => Offset + Component.Size;
}

/// <summary>The full layout of one XSAVE area (standard or compacted) for a feature mask on a CPU.</summary>
public sealed class XStateLayout
{
    private readonly int[] _offsets = new int[64];

    private XStateLayout(CpuProfile cpu, ulong features, bool compacted)
    {
        Cpu = cpu;
        Features = features & ~XFeatureMasks.CompactedFormat;
        Compacted = compacted;
        Array.Fill(_offsets, -1);
        var list = new List<ComponentPlacement>();
        for (int i = 0; i < 63; i++)
        {
            if ((Features >> i & 1) == 0 || cpu.Component(i) is not { } c)
                continue;
            int off = XStateGeometry.Offset(cpu, Features, i, compacted);
            if (off < 0)
                continue; // supervisor component in a standard-form area: it has no place there
            _offsets[i] = off;
            list.Add(new ComponentPlacement(c, XFeatureTable.Get(i, c.Supervisor), off));
        }
        Components = list.OrderBy(p => p.Offset).ThenBy(p => p.Number).ToArray();
        Size = XStateGeometry.Size(cpu, Features, compacted);
    }

    public CpuProfile Cpu { get; }
    public ulong Features { get; }
    public bool Compacted { get; }

    /// <summary>Area size in bytes (kernel <c>xstate_calculate_size()</c>).</summary>
    public int Size { get; }

    /// <summary>Placed components in offset order.</summary>
    public IReadOnlyList<ComponentPlacement> Components { get; }

    /// <summary>Offset of component <paramref name="feature"/>, or -1 when it has no place in this area.</summary>
    public int OffsetOf(int feature) => (uint)feature < 64 ? _offsets[feature] : -1;

    public static XStateLayout Standard(CpuProfile cpu, ulong features) => Create(cpu, features, false);

    public static XStateLayout CompactedForm(CpuProfile cpu, ulong features) => Create(cpu, features, true);

    /// <summary>Builds a layout; throws <see cref="ArgumentException"/> when the mask names components the
    /// CPU does not enumerate (callers validate user input first with <see cref="XStateGeometry.Unsupported"/>).</summary>
    public static XStateLayout Create(CpuProfile cpu, ulong features, bool compacted)
    {
        ulong bad = XStateGeometry.Unsupported(cpu, features);
        if (bad != 0)
            throw new ArgumentException($"components {XFeatureTable.Describe(bad)} (0x{bad:x}) are not enumerated by {cpu.Name}", nameof(features));
        return new XStateLayout(cpu, features, compacted);
    }
}
