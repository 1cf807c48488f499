namespace XsaveLab.Kernel.Memory;

/// <summary>Which <c>calculate_order()</c> (mm/slub.c) a kernel has.</summary>
public enum SlubOrderRules
{
    /// <summary>Before 6.7: for min_objects down to 2, try waste ≤ 1/16, 1/8, 1/4 of the slab; then one object
    /// with any waste up to slub_max_order; then up to MAX_ORDER.</summary>
    MinObjectsLoop,

    /// <summary>6.7+ (5d2fb61c82b4 "attempt to find layouts up to 1/2 waste", b898b3a57bed "remove min_objects
    /// loop", 844fdde85c87 "refactor calculate_order() and calc_slab_order()"): min_order from min_objects, then
    /// waste ≤ 1/16, 1/8, 1/4, 1/2 of the slab up to slub_max_order; then get_order(size).</summary>
    HalfWaste,
}

/// <summary>The SLUB settings <c>calculate_order()</c> reads.</summary>
/// <param name="PresentCpus"><c>num_present_cpus()</c>.</param>
/// <param name="NrCpuIds"><c>nr_cpu_ids</c>, used when at most one CPU is present.</param>
/// <param name="MinOrder"><c>slub_min_order</c> (boot option, default 0).</param>
/// <param name="MaxOrder"><c>slub_max_order</c> (boot option, default PAGE_ALLOC_COSTLY_ORDER = 3).</param>
/// <param name="MinObjects"><c>slub_min_objects</c> (boot option; 0 = derived from the CPU count).</param>
/// <param name="CacheLineBytes">The task_struct cache's alignment: <c>max(L1_CACHE_BYTES, ARCH_MIN_TASKALIGN)</c>
/// in <c>fork_init()</c> (kernel/fork.c), 64 with x86-64's CONFIG_X86_L1_CACHE_SHIFT=6.</param>
public sealed record SlubParams(int PresentCpus = 1, int NrCpuIds = 1, int MinOrder = 0, int MaxOrder = 3, int MinObjects = 0, int CacheLineBytes = 64)
{
    public static SlubParams Default { get; } = new();

    /// <summary><c>min_objects</c> before clamping: <c>slub_min_objects</c>, else <c>4 * (fls(nr_cpus) + 1)</c>
    /// with nr_cpus = num_present_cpus(), or nr_cpu_ids when that is ≤ 1.</summary>
    public int DerivedMinObjects
    {
        get
        {
            if (MinObjects > 0)
                return MinObjects;
            int cpus = PresentCpus <= 1 ? NrCpuIds : PresentCpus;
            return 4 * (SlubRules.Fls(cpus) + 1);
        }
    }

    /// <exception cref="ArgumentOutOfRangeException">A value the kernel would not accept.</exception>
    public void Validate()
    {
        if (PresentCpus is < 0 or > 1 << 16 || NrCpuIds is < 1 or > 1 << 16)
            throw new ArgumentOutOfRangeException(nameof(PresentCpus), $"{PresentCpus}/{NrCpuIds}: CPU counts 1..65536");
        // The page allocator cannot hand out a slab above MAX_PAGE_ORDER.
        if (MinOrder is < 0 or > SlubRules.MaxPageOrder || MaxOrder is < 0 or > SlubRules.MaxPageOrder)
            throw new ArgumentOutOfRangeException(nameof(MaxOrder), $"{MinOrder}/{MaxOrder}: orders 0..{SlubRules.MaxPageOrder}");
        if (MinObjects is < 0 or > SlubRules.MaxObjsPerPage)
            throw new ArgumentOutOfRangeException(nameof(MinObjects), MinObjects, $"0..{SlubRules.MaxObjsPerPage}");
        if (CacheLineBytes is < 8 or > 4096 || !BitOperations.IsPow2(CacheLineBytes))
            throw new ArgumentOutOfRangeException(nameof(CacheLineBytes), CacheLineBytes, "a power of two 8..4096");
    }
}
