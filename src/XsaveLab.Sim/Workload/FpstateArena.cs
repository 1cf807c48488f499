namespace XsaveLab.Sim.Workload;

/// <summary>Pooled fpstate buffers of one shape, handed out by index. No per-buffer object: memory per task is the
/// slot itself, packed at <c>fpstate.size</c> bytes.</summary>
/// <remarks>Storage is a list of chunks of a power-of-two number of slots, so no single array has to hold a
/// million fpstates (2.5 GB at 2.5 KiB each, beyond <see cref="Array.MaxLength"/>) and byte positions are 64-bit.
/// The model's linear addresses are separate from storage: they keep the 64-byte stride XSAVE's alignment
/// check needs (SDM Vol.1 §13.4) without spending host memory on the padding.</remarks>
internal sealed class FpstateArena
{
    /// <summary>Largest chunk in bytes (1 GiB): far below <see cref="Array.MaxLength"/>.</summary>
    internal const long DefaultChunkBytes = 1L << 30;

    private readonly List<byte[]> _chunks = [];
    private readonly int _chunkShift;
    private readonly int _capacity;
    private int _count;

    public FpstateArena(FpStateShape shape, ulong baseAddress, int capacity, long chunkBytes = DefaultChunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shape.Size);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Shape = shape;
        AddressStride = (ulong)XsaveOffsets.Align64(shape.Size);
        BaseAddress = baseAddress;
        _capacity = capacity;
        // Slots per chunk: the largest power of two whose slots fit the chunk (at least one).
        long perChunk = Math.Max(1, chunkBytes / shape.Size);
        _chunkShift = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)perChunk);
    }

    public FpStateShape Shape { get; }

    /// <summary>Distance between the model addresses of consecutive slots (fpstate.size rounded up to 64).</summary>
    public ulong AddressStride { get; }

    /// <summary>The model's linear address of slot 0 (64-byte aligned; XSAVE checks alignment).</summary>
    public ulong BaseAddress { get; }

    public int Count => _count;

    public int SlotsPerChunk => 1 << _chunkShift;

    public long BytesReserved
    {
        get
        {
            long n = 0;
            foreach (var c in _chunks)
                n += c.LongLength;
            return n;
        }
    }

    public int Allocate()
    {
        int slot = _count;
        int chunk = slot >> _chunkShift;
        int index = slot & (SlotsPerChunk - 1);
        if (chunk == _chunks.Count)
            _chunks.Add(NewChunk(Math.Min(SlotsPerChunk, Math.Max(1, _capacity - slot))));
        else if ((index + 1) * Shape.Size > _chunks[chunk].Length)
        {
            // Beyond the announced capacity: grow the last chunk geometrically up to a full chunk.
            var c = _chunks[chunk];
            int slots = Math.Min(SlotsPerChunk, Math.Max(index + 1, c.Length / Shape.Size * 2));
            Array.Resize(ref c, slots * Shape.Size);
            _chunks[chunk] = c;
        }
        _count++;
        Slot(slot).Clear();
        return slot;
    }

    private byte[] NewChunk(int slots) => GC.AllocateUninitializedArray<byte>(slots * Shape.Size, pinned: false);

    public Span<byte> Slot(int slot) =>
        _chunks[slot >> _chunkShift].AsSpan((slot & (SlotsPerChunk - 1)) * Shape.Size, Shape.Size);

    public ulong Address(int slot) => BaseAddress + (ulong)slot * AddressStride;
}
