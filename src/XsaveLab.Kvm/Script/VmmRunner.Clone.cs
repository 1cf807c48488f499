namespace XsaveLab.Kvm.Script;

public sealed partial class VmmRunner
{
    /// <summary>A deep copy of the runner and everything it drives: the VMM process (its kernel, CPUs, tasks and
    /// fpstates), the VM and its vCPUs, pending signal frames, the last images and the steps so far. Running the same
    /// lines on the copy and on the original gives the same steps and states; neither sees the other's changes. The
    /// settings, booted host configuration, caps and snapshots (read-only after creation) are shared.</summary>
    public VmmRunner Clone() => Clone(new CloneMap());

    /// <summary><see cref="Clone()"/> through <paramref name="map"/> (reused after <see cref="CloneMap.Clear"/>).</summary>
    /// <remarks>Fields are copied by <see cref="object.MemberwiseClone"/>, so a value field added later is copied
    /// without being listed; a mutable reference field must be replaced here or in its type's copy (the clone test
    /// names any that is shared).</remarks>
    public VmmRunner Clone(CloneMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var c = (VmmRunner)MemberwiseClone();
        c._steps = [.. _steps];
        c._snapshots = new Dictionary<string, VcpuSnapshot>(_snapshots, StringComparer.OrdinalIgnoreCase);
        c._snapshotCpus = new Dictionary<string, CpuProfile>(_snapshotCpus, StringComparer.OrdinalIgnoreCase);
        c._sys = map.Get(_sys, KvmSystem.Clone);
        c._vm = map.Get(_vm, KvmVm.Clone);
        c._vcpu = map.Get(_vcpu, KvmVcpu.Clone);
        c.FirstVcpu = map.Get(FirstVcpu, KvmVcpu.Clone);
        c._supported = _supported?.ToList();
        c._lastImage = (byte[]?)_lastImage?.Clone();
        c._regset = (byte[]?)_regset?.Clone();
        c._tasks = new List<KernelTask>(_tasks.Count);
        foreach (var t in _tasks)
            c._tasks.Add(map.Copied(t));
        c._frames = new Dictionary<KernelTask, byte[]>(_frames.Count);
        foreach (var (t, frame) in _frames)
            c._frames.Add(map.Copied(t), (byte[])frame.Clone());
        return c;
    }
}
