using XsaveLab.Arch.Machine;

namespace XsaveLab.Sim.Workload;

/// <summary>Pooled fpstate buffers of one shape: one array, slots at a 64-byte stride, handed out by index.
/// No per-buffer object, so memory per task is the slot itself.</summary>
internal sealed class FpstateArena
{
    private byte[] _bytes;
    private int _count;

    public FpstateArena(FpstateShape shape, ulong baseAddress, int capacity)
    {
        Shape = shape;
        Stride = XsaveOffsets.Align64(shape.Size);
        BaseAddress = baseAddress;
        _bytes = GC.AllocateUninitializedArray<byte>(checked(Stride * Math.Max(1, capacity)), pinned: false);
    }

    public FpstateShape Shape { get; }
    public int Stride { get; }

    /// <summary>The model's linear address of slot 0 (64-byte aligned; XSAVE checks alignment).</summary>
    public ulong BaseAddress { get; }

    public int Count => _count;
    public long BytesReserved => _bytes.LongLength;

    public int Allocate()
    {
        if ((_count + 1) * (long)Stride > _bytes.Length)
        {
            long n = Math.Max(_bytes.Length * 2L, (long)Stride * 16);
            if (n > Array.MaxLength)
                throw new InvalidOperationException("fpstate arena too large");
            Array.Resize(ref _bytes, (int)n);
        }
        int slot = _count++;
        _bytes.AsSpan(slot * Stride, Stride).Clear();
        return slot;
    }

    public Span<byte> Slot(int slot) => _bytes.AsSpan(slot * Stride, Shape.Size);

    public ulong Address(int slot) => BaseAddress + (ulong)slot * (ulong)Stride;
}
