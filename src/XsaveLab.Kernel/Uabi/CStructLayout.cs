namespace XsaveLab.Kernel.Uabi;

/// <summary>A C struct laid out with the x86 System V rules (each member at the next multiple of its alignment;
/// the struct aligned to its largest member and padded to a multiple of it). Used to derive the signal-frame
/// sizes from the uapi declarations instead of quoting numbers. Immutable: <see cref="Add(string, int, int, int)"/>
/// returns a new layout.</summary>
public sealed class CStructLayout
{
    private readonly (string Name, int Offset, int Size)[] _members;
    private readonly int _end;

    public CStructLayout(string name)
        : this(name, [], 0, 1)
    {
    }

    private CStructLayout(string name, (string, int, int)[] members, int end, int alignment)
    {
        Name = name;
        _members = members;
        _end = end;
        Alignment = alignment;
    }

    public string Name { get; }
    public int Alignment { get; }

    public CStructLayout Add(string member, int size, int align, int count = 1)
    {
        int off = (_end + align - 1) / align * align;
        return new CStructLayout(Name, [.. _members, (member, off, size * count)], off + size * count, Math.Max(Alignment, align));
    }

    public CStructLayout Add(string member, CStructLayout type, int count = 1) => Add(member, type.Sizeof, type.Alignment, count);

    public int Sizeof => (_end + Alignment - 1) / Alignment * Alignment;

    public int OffsetOf(string member) => _members.First(m => m.Name == member).Offset;
}
