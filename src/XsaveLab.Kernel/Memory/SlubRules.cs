namespace XsaveLab.Kernel.Memory;

/// <summary>The geometry SLUB gives a cache: <c>calculate_sizes()</c> and <c>calculate_order()</c> (mm/slub.c), for a
/// cache without debugging, RCU, poisoning or constructor (the task_struct cache: <c>fork_init()</c> passes
/// SLAB_PANIC | SLAB_ACCOUNT and a usercopy window, none of which adds metadata).</summary>
public static class SlubRules
{
    /// <summary>PAGE_SIZE on x86.</summary>
    public const int PageSize = 4096;

    /// <summary>MAX_OBJS_PER_PAGE: the slab's object counter is 15 bits.</summary>
    public const int MaxObjsPerPage = 32767;

    /// <summary>MAX_PAGE_ORDER (MAX_ORDER - 1 before 6.4's rename) on x86.</summary>
    public const int MaxPageOrder = 10;

    /// <summary>The cache geometry for objects of <paramref name="objectSize"/> bytes aligned to
    /// <paramref name="align"/>: <c>size = ALIGN(ALIGN(object_size, sizeof(void *)), s->align)</c> (the free
    /// pointer lives inside the object, at <c>ALIGN_DOWN(object_size / 2, sizeof(void *))</c>), then the order.</summary>
    /// <returns>null when no order up to MAX_PAGE_ORDER holds one object (<c>-ENOSYS</c>).</returns>
    public static SlabGeometry? Geometry(int objectSize, int align, SlubParams p, SlubOrderRules rules)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(objectSize, 1);
        p.Validate();
        // calculate_alignment(): at least ARCH_SLAB_MINALIGN (8 on x86-64), rounded to sizeof(void *).
        int a = Align(Math.Max(align, 8), 8);
        int size = Align(Align(objectSize, 8), a);
        if (CalculateOrder(size, p, rules) is not { } order)
            return null;
        return new SlabGeometry(objectSize, a, size, order, OrderObjects(order, size));
    }

    /// <summary><c>calculate_order(size)</c> as <paramref name="rules"/> has it; null for <c>-ENOSYS</c>.</summary>
    public static int? CalculateOrder(int size, SlubParams p, SlubOrderRules rules)
    {
        int maxObjects = OrderObjects(p.MaxOrder, size);
        if (rules == SlubOrderRules.HalfWaste)
        {
            // min_objects can't be 0 because get_order(0) is undefined.
            int minObjects = Math.Min(p.DerivedMinObjects, Math.Max(maxObjects, 1));
            int minOrder = Math.Max(p.MinOrder, GetOrder((long)minObjects * size));
            if (OrderObjects(minOrder, size) > MaxObjsPerPage)
                return GetOrder((long)size * MaxObjsPerPage) - 1;
            for (int fraction = 16; fraction > 1; fraction /= 2)
                if (CalcSlabOrderFrom(size, minOrder, p.MaxOrder, fraction) is var o && o <= p.MaxOrder)
                    return o;
            int last = GetOrder(size);
            return last <= MaxPageOrder ? last : null;
        }
        int min = Math.Min(p.DerivedMinObjects, maxObjects);
        for (; min > 1; min--)
            for (int fraction = 16; fraction >= 4; fraction /= 2)
                if (CalcSlabOrderOld(size, min, p.MaxOrder, fraction, p) is var o && o <= p.MaxOrder)
                    return o;
        if (CalcSlabOrderOld(size, 1, p.MaxOrder, 1, p) is var one && one <= p.MaxOrder)
            return one;
        int any = CalcSlabOrderOld(size, 1, MaxPageOrder + 1, 1, p);
        return any <= MaxPageOrder ? any : null;
    }

    /// <summary>6.7+ <c>calc_slab_order(size, min_order, max_order, fract_leftover)</c>: the first order whose
    /// leftover is at most 1/fract_leftover of the slab; max_order + 1 when none.</summary>
    private static int CalcSlabOrderFrom(int size, int minOrder, int maxOrder, int fraction)
    {
        int order = minOrder;
        for (; order <= maxOrder; order++)
        {
            long slab = (long)PageSize << order;
            if (slab % size <= slab / fraction)
                break;
        }
        return order;
    }

    /// <summary>Before 6.7, <c>calc_slab_order(size, min_objects, max_order, fract_leftover)</c> starts at
    /// <c>max(slub_min_order, get_order(min_objects * size))</c>.</summary>
    private static int CalcSlabOrderOld(int size, int minObjects, int maxOrder, int fraction, SlubParams p)
    {
        if (OrderObjects(p.MinOrder, size) > MaxObjsPerPage)
            return GetOrder((long)size * MaxObjsPerPage) - 1;
        return CalcSlabOrderFrom(size, Math.Max(p.MinOrder, GetOrder((long)minObjects * size)), maxOrder, fraction);
    }

    /// <summary><c>order_objects(order, size)</c> = (PAGE_SIZE &lt;&lt; order) / size.</summary>
    public static int OrderObjects(int order, int size) => (int)(((long)PageSize << order) / size);

    /// <summary><c>get_order(size)</c>: the smallest order whose block holds <paramref name="size"/> bytes.</summary>
    public static int GetOrder(long size)
    {
        int order = 0;
        while (((long)PageSize << order) < size)
            order++;
        return order;
    }

    /// <summary><c>fls(x)</c>: the 1-based index of the highest set bit, 0 for 0.</summary>
    public static int Fls(int x) => x == 0 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)x);

    /// <summary><c>ALIGN(x, a)</c> for a power of two <paramref name="a"/>.</summary>
    public static int Align(int x, int a) => (x + a - 1) & ~(a - 1);
}

/// <summary>One cache's layout as /sys/kernel/slab/NAME shows it.</summary>
/// <param name="ObjectSize"><c>object_size</c>.</param>
/// <param name="Align"><c>align</c>.</param>
/// <param name="SlabSize"><c>slab_size</c>: the object's stride, aligned.</param>
/// <param name="Order"><c>order</c>.</param>
/// <param name="ObjectsPerSlab"><c>objs_per_slab</c>.</param>
public sealed record SlabGeometry(int ObjectSize, int Align, int SlabSize, int Order, int ObjectsPerSlab)
{
    /// <summary>Bytes of one slab: PAGE_SIZE &lt;&lt; order.</summary>
    public long SlabBytes => (long)SlubRules.PageSize << Order;

    /// <summary>What one object really costs: the slab's bytes over its objects (stride plus its share of the
    /// leftover at the slab's end).</summary>
    public double BytesPerObject => SlabBytes / (double)ObjectsPerSlab;

    /// <summary>Bytes per object of this cache minus <paramref name="other"/>'s, to the thousandth of a byte (a
    /// slab's bytes over its objects is rarely a whole number).</summary>
    public double BytesPerObjectOver(SlabGeometry other) => Math.Round(BytesPerObject - other.BytesPerObject, 3);

    /// <summary>Bytes of the slabs that <paramref name="objects"/> objects need when packed (whole slabs).</summary>
    public long BytesFor(long objects) => (objects + ObjectsPerSlab - 1) / ObjectsPerSlab * SlabBytes;
}
