namespace XsaveLab.Kernel.Memory;

/// <summary>What a task costs in the task_struct slab cache under one kernel variant on one CPU.</summary>
/// <param name="Variant">The kernel variant's name.</param>
/// <param name="DefaultSize"><c>fpu_kernel_cfg.default_size</c> the boot computed.</param>
/// <param name="ArchTaskStructSize"><c>arch_task_struct_size</c>: the cache's object_size.</param>
/// <param name="Slab">The cache's geometry; null when SLUB cannot place the object (-ENOSYS).</param>
public sealed record TaskStructCache(string Variant, int DefaultSize, int ArchTaskStructSize, SlabGeometry? Slab)
{
    /// <summary>The task_struct cache for <paramref name="sys"/>'s variant and CPU: <c>fpu__init_task_struct_size()</c>
    /// sets <c>arch_task_struct_size</c> from the struct sizes and <c>fpu_kernel_cfg.default_size</c>, and
    /// <c>fork_init()</c> (kernel/fork.c) creates "task_struct" with it, aligned to
    /// <c>max(L1_CACHE_BYTES, ARCH_MIN_TASKALIGN)</c>.</summary>
    public static TaskStructCache Of(FpuSystem sys, TaskStructSizes sizes, SlubParams slub)
    {
        int def = sys.KernelCfg.DefaultSize;
        int arch = sizes.ArchTaskStructSize(def);
        var slab = arch < 1 ? null : SlubRules.Geometry(arch, slub.CacheLineBytes, slub, sys.Variant.SlubOrder);
        return new TaskStructCache(sys.Variant.Name, def, arch, slab);
    }
}

/// <summary>fpstates that live outside the task_struct: the guest fpstate of a vCPU (<c>fpu_alloc_guest_fpstate()</c>)
/// and a buffer grown for AMX or a guest feature (<c>fpstate_realloc()</c>) are <c>vzalloc()</c>'ed, so they take
/// whole pages.</summary>
public static class FpstateAllocation
{
    /// <summary><c>ALIGN(offsetof(struct fpstate, regs), 64)</c>: the header before the register buffer
    /// (<c>regs</c> is 64-byte aligned and follows six small fields).</summary>
    public const int HeaderBytes = 64;

    /// <summary>Bytes asked of vzalloc() for an fpstate of <paramref name="ksize"/> register bytes:
    /// <c>ksize + ALIGN(offsetof(struct fpstate, regs), 64)</c>.</summary>
    public static int Bytes(int ksize) => ksize + HeaderBytes;

    /// <summary>Pages vmalloc maps for it (PAGE_ALIGN(size) / PAGE_SIZE; the guard page is address space only).</summary>
    public static int Pages(int ksize) => (Bytes(ksize) + SlubRules.PageSize - 1) / SlubRules.PageSize;
}
