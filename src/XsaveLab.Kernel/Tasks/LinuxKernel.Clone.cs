namespace XsaveLab.Kernel.Tasks;

public sealed partial class LinuxKernel
{
    /// <summary>A deep copy of the running kernel: CPUs (registers included), thread groups, tasks, their fpstates,
    /// guest containers, counters and logs, each object copied once so the copy shares among its objects exactly
    /// what the original shares among its own, and nothing mutable with the original. The booted
    /// <see cref="System"/> (read-only after boot) is shared.</summary>
    public LinuxKernel Clone() => Clone(new CloneMap());

    /// <summary><see cref="Clone()"/> recording every copied object in <paramref name="map"/>, for callers that copy
    /// objects pointing into this kernel (a VMM's task, a vCPU's guest container).</summary>
    /// <remarks>Fields are copied by <see cref="object.MemberwiseClone"/>, so a value field added later is copied
    /// without being listed; a mutable reference field must be replaced here or in its type's copy (the clone test
    /// names any that is shared).</remarks>
    public LinuxKernel Clone(CloneMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var c = (LinuxKernel)MemberwiseClone();
        map.Add(this, c);
        c.SwitchPolicy = SwitchPolicy.Clone();
        c.Counters = Counters.Clone();
        c.Warnings = Warnings.Clone();
        c._violations = [.. _violations];
        c._oopses = [.. _oopses];
        c._tasks = new List<KernelTask>(_tasks.Count);
        foreach (var t in _tasks)
            c._tasks.Add(map.Get(t, KernelTask.Clone));
        c._groups = new List<ThreadGroup>(_groups.Count);
        foreach (var g in _groups)
            c._groups.Add(ThreadGroup.Clone(g, map));
        c._leaked = new List<FpState>(_leaked.Count);
        foreach (var f in _leaked)
            c._leaked.Add(map.Get(f, FpState.Clone));
        c._cpus = new KernelCpu[_cpus.Length];
        for (int i = 0; i < _cpus.Length; i++)
            c._cpus[i] = _cpus[i].Clone(map);
        return c;
    }
}
