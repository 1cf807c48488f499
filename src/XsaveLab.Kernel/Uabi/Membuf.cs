namespace XsaveLab.Kernel.Uabi;

/// <summary><c>struct membuf</c> (include/linux/regset.h): a sequential writer that silently stops at the end
/// of the destination, which is how regset GETs with a short iov_len return a prefix of the image.</summary>
public ref struct Membuf
{
    private readonly Span<byte> _to;

    public Membuf(Span<byte> to)
    {
        _to = to;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly int Left => _to.Length - Position;

    /// <summary>membuf_write().</summary>
    public void Write(scoped ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Left);
        data[..n].CopyTo(_to[Position..]);
        Position += n;
    }

    /// <summary>membuf_zero().</summary>
    public void Zero(int size)
    {
        int n = Math.Min(size, Left);
        _to.Slice(Position, n).Clear();
        Position += n;
    }
}
