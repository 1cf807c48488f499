using XsaveLab.Host.Memory;

namespace XsaveLab.Host.Tests.Memory;

/// <summary>The task_struct cache predicted from this kernel's BTF against /sys/kernel/slab/task_struct.</summary>
public class TaskStructSlabTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Prediction_from_BTF_equals_the_live_slab_cache()
    {
        Skip.IfNot(HostFacts.IsLinuxX64, "needs Linux on x86-64");
        var report = HostCheck.Run(new HostCheckOptions(Providers: [new TaskStructSlabCheck()]));
        foreach (var o in report.Observables)
            output.WriteLine($"{o.Status,-9} {o.Name}: model {o.Model} | kernel {o.Actual} — {o.Reason}");
        var skipped = report.Observables.FirstOrDefault(o => o.Status == ObservableStatus.Skipped);
        Skip.If(skipped is not null, skipped?.Reason ?? "");
        Assert.Equal(["task_struct object_size", "task_struct slab_size", "task_struct objs_per_slab", "task_struct order"], report.Observables.Select(o => o.Name));
        Assert.All(report.Observables, o => Assert.Equal(ObservableStatus.Match, o.Status));
    }

    /// <summary>The running kernel's BTF parses, and its struct fpu placement is the one its release has
    /// (after the task from 6.16, 81106b7e0b13).</summary>
    [SkippableFact]
    public void Live_BTF_gives_the_release_s_struct_fpu_placement()
    {
        Skip.IfNot(File.Exists(TaskStructBtf.VmlinuxPath), $"{TaskStructBtf.VmlinuxPath} is absent (CONFIG_DEBUG_INFO_BTF=n)");
        XsaveLab.Kernel.Memory.TaskStructSizes s;
        try
        {
            s = TaskStructBtf.Read(TaskStructBtf.VmlinuxPath);
        }
        catch (BtfFormatException e) when (e.Message.Contains("cannot", StringComparison.Ordinal) || e.Message.Contains("permission", StringComparison.OrdinalIgnoreCase))
        {
            Skip.If(true, e.Message);
            return;
        }
        output.WriteLine(s.ToString());
        var release = Environment.OSVersion.Version;
        Assert.Equal(release >= new Version(6, 16), s.FpuAppended);
        Assert.Equal(XsaveLab.Kernel.Memory.TaskStructSizes.FpregsStateBytes, s.FpregsState);
    }
}
