namespace XsaveLab.Kernel.Tasks;

/// <summary>A task (thread) as far as the FPU core is concerned.</summary>
public sealed class KernelTask
{
    internal KernelTask(int pid, string name, ThreadGroup group, Fpu fpu, bool isKernelThread)
    {
        Pid = pid;
        Name = name;
        Group = group;
        Fpu = fpu;
        IsKernelThread = isKernelThread;
    }

    public int Pid { get; }
    public string Name { get; internal set; }
    public ThreadGroup Group { get; internal set; }
    public KernelTask Leader => Group.Leader;
    public Fpu Fpu { get; private set; }

    /// <summary>PF_KTHREAD / PF_USER_WORKER: no user FPU state is switched.</summary>
    public bool IsKernelThread { get; }

    /// <summary>TIF_NEED_FPU_LOAD: registers must be restored from memory before returning to user space.</summary>
    public bool NeedFpuLoad { get; internal set; }

    public TaskState State { get; internal set; } = TaskState.Runnable;

    /// <summary>The CPU this task is current on, or −1.</summary>
    public int OnCpu { get; internal set; } = -1;

    /// <summary>sas_ss_size of the installed sigaltstack (0 = none).</summary>
    public ulong SasSsSize { get; internal set; }

    /// <summary>thread.features: the ARCH_SHSTK_* features enabled (<see cref="ArchPrctl.ShstkShstk"/>,
    /// <see cref="ArchPrctl.ShstkWrss"/>).</summary>
    public ulong ShstkFeatures { get; internal set; }

    /// <summary>thread.features_locked: features ARCH_SHSTK_LOCK froze.</summary>
    public ulong ShstkFeaturesLocked { get; internal set; }

    /// <summary>thread.shstk: the shadow stack the kernel allocated for this thread.</summary>
    public ThreadShstk Shstk { get; internal set; }

    /// <summary>The address space (shared by threads and a vfork child).</summary>
    public UserMm Mm { get; internal set; } = new();

    /// <summary>thread.pkru (switched eagerly).</summary>
    public uint Pkru { get; internal set; }

    private List<SignalInfo> _signals = [];

    /// <summary>Signals the FPU code sent to this task, in order.</summary>
    public IReadOnlyList<SignalInfo> Signals => _signals;

    internal void Signal(SignalInfo s) => _signals.Add(s);

    private List<FpuGuest> _guests = [];

    /// <summary>Guest FPU containers (vCPUs) this task allocated and has not freed.</summary>
    public IReadOnlyList<FpuGuest> Guests => _guests;

    internal void AddGuest(FpuGuest g) => _guests.Add(g);

    internal void RemoveGuest(FpuGuest g) => _guests.Remove(g);

    /// <summary>The copy of this task within the kernel copy <paramref name="map"/> is building (every field copied
    /// by <see cref="object.MemberwiseClone"/>, the objects it points to copied once through the map).</summary>
    internal static KernelTask Clone(KernelTask o, CloneMap map)
    {
        var c = (KernelTask)o.MemberwiseClone();
        map.Add(o, c);
        c.Group = ThreadGroup.Clone(o.Group, map);
        c.Fpu = Fpu.Clone(o.Fpu, map);
        c.Mm = map.Get(o.Mm, UserMm.Clone);
        c._signals = [.. o._signals];
        c._guests = new List<FpuGuest>(o._guests.Count);
        foreach (var g in o._guests)
            c._guests.Add(map.Get(g, FpuGuest.Clone));
        return c;
    }

    public override string ToString() => $"{Name}[{Pid}]";
}
