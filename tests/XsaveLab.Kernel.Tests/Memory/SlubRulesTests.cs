using XsaveLab.Kernel.Memory;

namespace XsaveLab.Kernel.Tests.Memory;

/// <summary><c>calculate_order()</c> (mm/slub.c) against what its authors wrote it gives, and the properties the
/// slab rules imply for the task_struct cache.</summary>
public class SlubRulesTests(ITestOutputHelper output)
{
    /// <summary>Vlastimil Babka's "mm/slub: attempt to find layouts up to 1/2 waste in calculate_order()"
    /// (5d2fb61c82b4, 6.7) states, for nr_cpus=1, 4 KiB pages and slub_max_order=3: before, 2056–10920 get order 3,
    /// 10928–12280 order 2 (the one-object fallback, as under 1/4 waste is impossible) and 12288–32768 order 3;
    /// after, 2056–32768 all get order 3.</summary>
    [Fact]
    public void Orders_match_the_ranges_the_6_7_commit_message_gives()
    {
        var p = new SlubParams(PresentCpus: 1, NrCpuIds: 1);
        for (int size = 2056; size <= 32768; size += 8)
        {
            int before = size is >= 10928 and <= 12280 ? 2 : 3;
            Assert.True(SlubRules.CalculateOrder(size, p, SlubOrderRules.MinObjectsLoop) == before, $"size {size}: before 6.7 order {before} expected");
            Assert.True(SlubRules.CalculateOrder(size, p, SlubOrderRules.HalfWaste) == 3, $"size {size}: 6.7+ order 3 expected");
        }
    }

    /// <summary>What every geometry must be, whatever the rules: the stride is the object rounded up to the
    /// alignment, the slab holds a whole number of strides, and the order is within the page allocator.</summary>
    [Fact]
    public void Geometry_is_a_whole_number_of_aligned_strides()
    {
        const int seed = 61_207;
        output.WriteLine($"seed {seed}");
        var rng = new Random(seed);
        for (int i = 0; i < 5000; i++)
        {
            int size = rng.Next(1, 200_000), align = 8 << rng.Next(0, 5);
            var p = new SlubParams(PresentCpus: rng.Next(1, 512), NrCpuIds: 512, MaxOrder: rng.Next(0, 4));
            var rules = rng.Next(2) == 0 ? SlubOrderRules.MinObjectsLoop : SlubOrderRules.HalfWaste;
            var g = SlubRules.Geometry(size, align, p, rules);
            string at = $"size {size} align {align} {p} {rules}";
            if ((long)SlubRules.PageSize << SlubRules.MaxPageOrder < size)
            {
                Assert.True(g is null, at);
                continue;
            }
            Assert.NotNull(g);
            Assert.True(g.SlabSize % Math.Max(align, 8) == 0 && g.SlabSize >= size && g.SlabSize - size < Math.Max(align, 8), at);
            Assert.True(g.ObjectsPerSlab >= 1 && (long)g.ObjectsPerSlab * g.SlabSize <= g.SlabBytes && (long)(g.ObjectsPerSlab + 1) * g.SlabSize > g.SlabBytes, at);
            Assert.InRange(g.Order, 0, SlubRules.MaxPageOrder);
            // A slab above slub_max_order only when not even one object fits below it.
            if (g.Order > p.MaxOrder)
                Assert.True(((long)SlubRules.PageSize << p.MaxOrder) < g.SlabSize, at);
        }
    }

    /// <summary><c>min_objects = 4 * (fls(nr_cpus) + 1)</c> is at least 8, and an order-3 slab holds at most 7
    /// objects over 4 KiB: for task_struct-sized objects the CPU count cannot change the geometry.</summary>
    [Fact]
    public void Cpu_count_does_not_change_objects_over_4_KiB()
    {
        for (int size = 4104; size <= 16384; size += 64)
            foreach (var rules in new[] { SlubOrderRules.MinObjectsLoop, SlubOrderRules.HalfWaste })
            {
                var one = SlubRules.Geometry(size, 64, new SlubParams(1, 1), rules);
                foreach (int cpus in new[] { 2, 4, 64, 4096 })
                    Assert.Equal(one, SlubRules.Geometry(size, 64, new SlubParams(cpus, cpus), rules));
            }
    }

    /// <summary>Objects in the same cache-line stride cost the same; where a stride crosses into a slab with fewer
    /// objects, the difference for 10,000 tasks is whole slabs.</summary>
    [Fact]
    public void A_saving_is_zero_within_a_stride_and_whole_slabs_across_an_objects_per_slab_boundary()
    {
        var p = new SlubParams(2, 2);
        int crossings = 0;
        for (int size = 4104; size <= 12288; size += 8)
        {
            var a = SlubRules.Geometry(size, 64, p, SlubOrderRules.HalfWaste)!;
            var b = SlubRules.Geometry(size + 24, 64, p, SlubOrderRules.HalfWaste)!;
            long saved = b.BytesFor(10_000) - a.BytesFor(10_000);
            if (a.SlabSize == b.SlabSize)
            {
                Assert.Equal(0, saved);
                Assert.Equal(0, b.BytesPerObjectOver(a));
                continue;
            }
            if (a.Order == b.Order && a.ObjectsPerSlab != b.ObjectsPerSlab)
            {
                crossings++;
                Assert.True(saved > 0 && saved % a.SlabBytes == 0, $"size {size}: {saved} B is not whole slabs of {a.SlabBytes}");
                Assert.True(b.BytesPerObjectOver(a) > 0, $"size {size}");
            }
        }
        Assert.True(crossings > 0, "no objects-per-slab boundary between 4 KiB and 12 KiB");
    }
}
