namespace XsaveLab.Kernel.Tasks;

/// <summary>A process: threads sharing <c>sighand</c> and the leader whose <c>fpu->perm</c>/<c>guest_perm</c>
/// are the group's permissions.</summary>
public sealed class ThreadGroup
{
    private List<KernelTask> _threads = [];

    internal ThreadGroup(int tgid) => Tgid = tgid;

    public int Tgid { get; }

    /// <summary>group_leader (stays referenced while other threads live, as a zombie leader does).</summary>
    public KernelTask Leader { get; internal set; } = null!;

    public IReadOnlyList<KernelTask> Threads => _threads;

    internal void Add(KernelTask t) => _threads.Add(t);

    internal void Remove(KernelTask t) => _threads.Remove(t);

    /// <summary>The copy of <paramref name="o"/> within the kernel copy <paramref name="map"/> is building.</summary>
    internal static ThreadGroup Clone(ThreadGroup o, CloneMap map) => map.Get(o, static (o, map) =>
    {
        var c = (ThreadGroup)o.MemberwiseClone();
        map.Add(o, c);
        c.Leader = map.Get(o.Leader, KernelTask.Clone);
        c._threads = new List<KernelTask>(o._threads.Count);
        foreach (var t in o._threads)
            c._threads.Add(map.Get(t, KernelTask.Clone));
        return c;
    });
}
