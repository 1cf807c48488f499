using XsaveLab.Host.Memory;
using XsaveLab.Kernel.Memory;

namespace XsaveLab.Host.Check;

/// <summary>The task_struct slab cache predicted from this kernel's BTF struct sizes, the booted
/// <c>fpu_kernel_cfg.default_size</c> and the SLUB rules (<see cref="TaskStructCache"/>), against
/// /sys/kernel/slab/task_struct.</summary>
public sealed class TaskStructSlabCheck : IHostCheckProvider
{
    public string Name => "task_struct slab";

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        var actual = HostSlab.TaskStruct(out string why);
        if (actual is null)
        {
            yield return Observable.Skipped("task_struct slab", why);
            yield break;
        }
        TaskStructSizes sizes;
        try
        {
            sizes = TaskStructBtf.Read(TaskStructBtf.VmlinuxPath);
        }
        catch (BtfFormatException e)
        {
            sizes = null!;
            why = $"no struct sizes: {e.Message}";
        }
        if (sizes is null)
        {
            yield return Observable.Skipped("task_struct slab", why);
            yield break;
        }
        if (HostSlab.DebugFlags() is { } debug)
        {
            yield return Observable.Skipped("task_struct slab", $"{debug}: its metadata is not modelled");
            yield break;
        }
        var slub = HostSlab.Params();
        var model = TaskStructCache.Of(ctx.System, sizes, slub);
        string basis = $"arch_task_struct_size = {sizes.TaskStruct}{(sizes.FpuAppended ? $" + {sizes.Fpu}" : "")} - {sizes.FpregsState} + default_size {model.DefaultSize}; {sizes.Source}";
        yield return Observable.Compare("task_struct object_size", model.ArchTaskStructSize.ToString(CultureInfo.InvariantCulture), actual.ObjectSize.ToString(CultureInfo.InvariantCulture), basis);
        if (model.Slab is not { } s)
        {
            yield return Observable.Compare("task_struct slab_size", "-ENOSYS", actual.SlabSize.ToString(CultureInfo.InvariantCulture), "calculate_order() found no order");
            yield break;
        }
        string order = $"calculate_order() ({ctx.System.Variant.SlubOrder}): min_objects {slub.DerivedMinObjects} ({slub.PresentCpus} present CPUs), slub_max_order {slub.MaxOrder}";
        yield return Observable.Compare("task_struct slab_size", s.SlabSize.ToString(CultureInfo.InvariantCulture), actual.SlabSize.ToString(CultureInfo.InvariantCulture), $"ALIGN(object_size, {s.Align})");
        yield return Observable.Compare("task_struct objs_per_slab", s.ObjectsPerSlab.ToString(CultureInfo.InvariantCulture), actual.ObjectsPerSlab.ToString(CultureInfo.InvariantCulture), order);
        yield return Observable.Compare("task_struct order", s.Order.ToString(CultureInfo.InvariantCulture), actual.Order.ToString(CultureInfo.InvariantCulture), order);
    }
}
