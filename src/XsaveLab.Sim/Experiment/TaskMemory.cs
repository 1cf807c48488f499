using XsaveLab.Kernel.Memory;

namespace XsaveLab.Sim.Experiment;

/// <summary>What a task and a vCPU really cost under one variant (docs/linux-fpu-core.md, "Real memory per task"):
/// the task_struct slab object the fpstate is part of, and the vzalloc()'ed pages of fpstates outside it. The
/// savings are against case 3 (CET_S in every task), the design the series' "24 bytes per task" is measured from.</summary>
public sealed record TaskMemory
{
    /// <summary><c>arch_task_struct_size</c>: the cache's object_size.</summary>
    public required int TaskStructObjectBytes { get; init; }

    /// <summary>The object's stride in the slab (slab_size): object_size aligned to the cache line.</summary>
    public required int TaskStructSlabBytes { get; init; }

    public required int ObjectsPerSlab { get; init; }

    public required int SlabOrder { get; init; }

    /// <summary>PAGE_SIZE &lt;&lt; order over objects per slab.</summary>
    public required double BytesPerTask { get; init; }

    /// <summary>fpu_kernel_cfg.default_size of case 3 minus this variant's: the saving the series counts.</summary>
    public required int FpstateBytesSavedPerTask { get; init; }

    /// <summary>Bytes per task of case 3 minus this variant's: 0 unless the object crosses into a slab with fewer objects.</summary>
    public required double RealBytesSavedPerTask { get; init; }

    /// <summary>Slab bytes 10,000 tasks take under case 3 minus under this variant (whole slabs).</summary>
    public required long RealBytesSavedPer10000Tasks { get; init; }

    /// <summary>Pages of one vCPU's guest fpstate (<c>fpu_alloc_guest_fpstate()</c>, or the reallocation the deferred
    /// design makes).</summary>
    public required int VcpuFpstatePages { get; init; }

    /// <summary>Pages of a task fpstate grown for AMX (<c>fpstate_realloc()</c>); null where the CPU has no AMX.</summary>
    public int? AmxFpstatePages { get; init; }

    /// <summary>The memory figures of <paramref name="sys"/>'s variant against <paramref name="case3"/>'s cache;
    /// null when SLUB cannot place either object.</summary>
    public static TaskMemory? Of(FpuSystem sys, FpuShapes shapes, TaskStructSizes sizes, SlubParams slub, TaskStructCache case3)
    {
        var cache = TaskStructCache.Of(sys, sizes, slub);
        if (cache.Slab is not { } s || case3.Slab is not { } s3)
            return null;
        return new TaskMemory
        {
            TaskStructObjectBytes = cache.ArchTaskStructSize,
            TaskStructSlabBytes = s.SlabSize,
            ObjectsPerSlab = s.ObjectsPerSlab,
            SlabOrder = s.Order,
            BytesPerTask = s.BytesPerObject,
            FpstateBytesSavedPerTask = case3.DefaultSize - cache.DefaultSize,
            RealBytesSavedPerTask = s3.BytesPerObjectOver(s),
            RealBytesSavedPer10000Tasks = s3.BytesFor(10_000) - s.BytesFor(10_000),
            VcpuFpstatePages = FpstateAllocation.Pages(shapes.Vcpu.Size),
            AmxFpstatePages = shapes.Amx is { } a ? FpstateAllocation.Pages(a.Size) : null,
        };
    }
}
