namespace XsaveLab.Sim.Tests.Workload;

/// <summary>The simulator's fpstate storage at a million tasks: positions are 64-bit and slots never overlap.</summary>
public class FpstateArenaTests
{
    private static FpStateShape Shape(int size) => new(size, 3, size, 3, 0, false);

    [Fact]
    public void A_million_slots_are_distinct_packed_and_keep_64_byte_aligned_model_addresses()
    {
        // A 64-byte slot keeps the test at 64 MB; 1 MiB chunks make the million slots span many chunks, the
        // situation a real 2.5 KiB fpstate reaches at about 400,000 tasks with the default chunk.
        const int n = 1_000_000, size = 64;
        const ulong baseAddress = 0x1_0000_0000;
        var arena = new FpstateArena(Shape(size), baseAddress, n, chunkBytes: 1 << 20);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(i, arena.Allocate());
            BinaryPrimitives.WriteInt32LittleEndian(arena.Slot(i), i);
            BinaryPrimitives.WriteInt32LittleEndian(arena.Slot(i)[(size - 4)..], ~i);
        }
        for (int i = 0; i < n; i++)
        {
            var s = arena.Slot(i);
            if (s.Length != size || BinaryPrimitives.ReadInt32LittleEndian(s) != i || BinaryPrimitives.ReadInt32LittleEndian(s[(size - 4)..]) != ~i)
                Assert.Fail($"slot {i} overlaps another");
        }
        Assert.Equal((long)n * size, arena.BytesReserved);
        Assert.Equal(baseAddress + (ulong)(n - 1) * 64, arena.Address(n - 1));
    }

    [Theory]
    [InlineData(2560)]
    [InlineData(2696)]
    [InlineData(11008)]
    public void Real_fpstate_sizes_at_a_million_tasks_reach_beyond_32_bit_offsets_without_wrapping(int size)
    {
        const int n = 1_000_000;
        // Small chunks: only the first chunk is allocated here, the arithmetic is what is checked.
        var arena = new FpstateArena(Shape(size), 0x1_0000_0000, n, chunkBytes: 64 * 1024);
        arena.Allocate();
        Assert.True(arena.BytesReserved <= 64 * 1024 + size, $"{arena.BytesReserved} bytes reserved up front");
        ulong stride = ((ulong)size + 63) & ~63UL;
        ulong last = arena.Address(n - 1);
        Assert.True(last - arena.BaseAddress > int.MaxValue, "a million fpstates span more than 2 GiB of model addresses");
        Assert.Equal(arena.BaseAddress + (ulong)(n - 1) * stride, last);
        Assert.Equal(0UL, last % 64);
    }

    [Fact]
    public void Growing_past_the_announced_capacity_keeps_earlier_slots()
    {
        var arena = new FpstateArena(Shape(576), 0x1000, capacity: 2, chunkBytes: 576 * 8);
        for (int i = 0; i < 20; i++)
        {
            arena.Allocate();
            arena.Slot(i).Fill((byte)(i + 1));
        }
        for (int i = 0; i < 20; i++)
            Assert.True(arena.Slot(i).IndexOfAnyExcept((byte)(i + 1)) < 0, $"slot {i} changed");
        Assert.Equal(20, arena.Count);
    }
}
