namespace XsaveLab.Kernel.Tasks;

/// <summary>A running kernel on a booted <see cref="FpuSystem"/>: CPUs, thread groups, tasks and the FPU core's
/// paths (arch/x86/kernel/fpu/core.c, xstate.c, context.h, sched.h). Tasks act through scripted user actions;
/// every register effect goes through the model CPU's instructions.</summary>
public sealed partial class LinuxKernel
{
    /// <summary>init_pkru_value: every key but 0 access-disabled (arch/x86/mm/pkeys.c).</summary>
    public const uint InitPkruValue = 0x55555554;

    private const ulong TaskBase = 0xffff_8880_0000_0000;
    private const ulong VmallocBase = 0xffff_c900_0000_0000;

    // Not readonly: Clone() replaces them in its copy (LinuxKernel.Clone.cs).
    private List<KernelTask> _tasks = [];
    private List<ThreadGroup> _groups = [];
    private List<string> _violations = [];
    private KernelCpu[] _cpus;
    private int _nextPid = 1;
    private int _nextFpstate = 1;
    private ulong _vmallocNext = VmallocBase;

    public LinuxKernel(FpuSystem system, int? cpuCount = null, XsaveCpuOptions? cpuOptions = null)
    {
        System = system;
        SwitchPolicy = new FpuSwitchPolicy(system);
        if (!system.Caps.Fxsr)
            throw new CpuProfileFormatException(system.Profile.Source, 0, "the CPU has no FXSR (CPUID.1:EDX[24]); FNSAVE-only CPUs are not modelled by the task layer"); // bad input, not misuse
        if (system.Stopped is { } stop)
            throw new CpuProfileFormatException(system.Profile.Source, 0, $"fpu__init_cpu_xstate() faults on this CPU's leaf 0xd values: {stop.Summary}; the boot stops there"); // bad input, not misuse
        int n = cpuCount ?? system.Options.CpuCount;
        if (n < 1)
            throw new ArgumentOutOfRangeException(nameof(cpuCount), n, "at least one CPU");
        _cpus = new KernelCpu[n];
        for (int i = 0; i < n; i++)
        {
            var kc = new KernelCpu(i, new XsaveCpu(system.Profile, cpuOptions));
            var f = system.InitCpu(kc.Cpu);
            if (f.IsFault)
                throw new CpuProfileFormatException(system.Profile.Source, 0, $"fpu__init_cpu_xstate() faults on this CPU's leaf 0xd values: {f}"); // bad input, not misuse
            kc.XfdState = system.Caps.Xfd && system.XsaveEnabled ? system.InitXfd : 0;
            if (OsPke)
                WritePkru(kc, InitPkruValue);
            _cpus[i] = kc;
        }
    }

    public FpuSystem System { get; }

    /// <summary>The switch decisions and transfer accounting of this boot.</summary>
    public FpuSwitchPolicy SwitchPolicy { get; private set; }

    public KernelVariant Variant => System.Variant;

    public IReadOnlyList<KernelCpu> Cpus => _cpus;

    /// <summary>Every task ever created (dead ones included).</summary>
    public IReadOnlyList<KernelTask> Tasks => _tasks;

    public IReadOnlyList<ThreadGroup> Groups => _groups;

    public FpuCounters Counters { get; private set; } = new();

    public WarnLog Warnings { get; private set; } = new();

    /// <summary>Model-level invariant breaches detected on the way (e.g. a save that would write past
    /// fpstate.size); tests expect none.</summary>
    public IReadOnlyList<string> Violations => _violations;

    /// <summary>Model time (jiffies), advanced by every context switch.</summary>
    public long Jiffies { get; private set; }

    /// <summary>X86_FEATURE_OSPKE: PKRU is enabled in XCR0.</summary>
    public bool OsPke => System.XsaveEnabled && (System.Xcr0 & XFeatureMasks.Pkru) != 0;

    internal void Violation(string message) => _violations.Add(message);

    private List<string> _oopses = [];

    /// <summary>Each <c>die()</c> the kernel went through, as its first line (<c>Oops: … [#n]</c>); the task that
    /// took it is killed.</summary>
    public IReadOnlyList<string> Oopses => _oopses;

    // die(str, regs, err) (arch/x86/kernel/dumpstack.c): prints "Oops: <str>: <err> [#n]" and kills the task.
    internal void Die(string what) => _oopses.Add($"Oops: {what}: 0000 [#{_oopses.Count + 1}]");

    internal void Warn(string message) => Warnings.Warn(message);

    // vzalloc() of an fpstate (header + regs): a fresh, zeroed buffer at a new vmalloc address.
    internal FpState Valloc(int size)
    {
        var fps = new FpState(_nextFpstate++, Math.Max(size, MinimumCapacity), _vmallocNext + Memory.FpstateAllocation.HeaderBytes, isValloc: true) { Size = size };
        _vmallocNext += (ulong)(Memory.FpstateAllocation.Pages(size) * Memory.SlubRules.PageSize);
        Counters.VallocBytes += Memory.FpstateAllocation.Bytes(size);
        return fps;
    }

    // Every buffer holds at least the FXSAVE area, and with XSAVE the header too, even when a damaged CPUID dump
    // makes fpstate.size smaller: saves past fpstate.size are reported as violations, never written out of bounds.
    private int MinimumCapacity => System.XsaveEnabled ? FpuSystem.XregsStateSize : FpuSystem.FxregsStateSize;

    internal void Vfree(FpState fps)
    {
        if (!fps.IsValloc || fps.Freed)
            return;
        fps.Freed = true;
        Counters.VfreeBytes += Memory.FpstateAllocation.Bytes(fps.Size);
    }

    private List<FpState> _leaked = []; // not readonly: Clone() replaces it in its copy

    /// <summary>vmalloc'ed fpstates no pointer refers to any more: never vfree()d (see <see cref="Exec"/>).</summary>
    public IReadOnlyList<FpState> LeakedFpStates => _leaked;

    // The last pointer to a vmalloc'ed buffer is dropped without vfree().
    private void Leak(FpState fps)
    {
        if (!fps.IsValloc || fps.Freed || _leaked.Contains(fps))
            return;
        _leaked.Add(fps);
        Counters.LeakedBytes += Memory.FpstateAllocation.Bytes(fps.Size);
    }

    private Fpu NewFpu(int pid)
    {
        // arch_task_struct_size: the embedded buffer holds fpu_kernel_cfg.default_size bytes.
        int capacity = Math.Max(System.KernelCfg.DefaultSize, MinimumCapacity);
        var embedded = new FpState(_nextFpstate++, capacity, TaskBase + (ulong)pid * 0x8000 + 0x1000, isValloc: false);
        return new Fpu(embedded);
    }

    /// <summary><c>__fpstate_reset()</c> (6.17, fafb29e18db2): guest buffers from the variant's guest source with
    /// xfd 0, host buffers from kernel defaults with init_fpstate.xfd; user size/features always the defaults.</summary>
    internal void FpstateResetFields(FpState fps) => fps.Apply(FpStateShape.Reset(System, fps.IsGuest));

    /// <summary><c>fpstate_reset()</c>: embedded buffer, default permissions, guest permissions per variant.</summary>
    internal void FpstateReset(Fpu fpu)
    {
        fpu.FpState = fpu.EmbeddedFpState;
        FpstateResetFields(fpu.FpState);
        var k = System.KernelCfg;
        var perm = new FpuStatePerm(k.DefaultFeatures, k.DefaultSize, System.UserCfg.DefaultSize);
        fpu.Perm = perm;
        fpu.GuestPerm = Variant.GuestPerm switch
        {
            GuestPermSource.CopyOfPerm => perm,
            GuestPermSource.GuestDefaults => new FpuStatePerm(System.GuestDefaultCfg.Features, System.GuestDefaultCfg.Size, System.UserCfg.DefaultSize),
            _ => GuestPermWithSupervisor(k.DefaultFeatures),
        };
    }

    private FpuStatePerm GuestPermWithSupervisor(ulong baseFeatures)
    {
        ulong mask = baseFeatures | (System.KernelCfg.MaxFeatures & Variant.GuestSupervisorMask);
        return new FpuStatePerm(mask, System.CalculateSize(mask, System.Compacted), System.UserCfg.DefaultSize);
    }

    /// <summary><c>fpstate_init_user()</c>: XCOMP_BV for compacted buffers and the legacy init values.</summary>
    internal void FpstateInitUser(FpState fps)
    {
        // fpstate_init_fxstate(): cwd = 0x37f, mxcsr = MXCSR_DEFAULT.
        BinaryPrimitives.WriteUInt16LittleEndian(fps.Buffer, 0x037F);
        BinaryPrimitives.WriteUInt32LittleEndian(fps.Buffer.AsSpan(XsaveOffsets.Mxcsr), 0x1F80);
        if (System.XsaveEnabled && System.Compacted)
            fps.XcompBv = fps.Xfeatures | XFeatureMasks.CompactedFormat;
    }

    private KernelTask NewTask(string name, ThreadGroup group, bool kthread)
    {
        int pid = _nextPid++;
        var t = new KernelTask(pid, name, group, NewFpu(pid), kthread);
        group.Add(t);
        _tasks.Add(t);
        return t;
    }

    private ThreadGroup NewGroup(int tgid)
    {
        var g = new ThreadGroup(tgid);
        _groups.Add(g);
        return g;
    }

    /// <summary>The first task of a new thread group, its fpstate pointing at the default buffer
    /// (fpstate_reset()); the caller fills the registers.</summary>
    private KernelTask NewLeader(string name, bool kthread)
    {
        var g = NewGroup(_nextPid);
        var t = NewTask(name, g, kthread);
        g.Leader = t;
        FpstateReset(t.Fpu);
        return t;
    }

    /// <summary>A new process in the state a fresh exec leaves: default fpstate holding init_fpstate's registers,
    /// default permissions, TIF_NEED_FPU_LOAD set, PKRU at its init value.</summary>
    public KernelTask SpawnProcess(string name)
    {
        var t = NewLeader(name, kthread: false);
        ResetFpstateRegs(t.Fpu);
        t.NeedFpuLoad = true;
        t.Pkru = InitPkruValue;
        return t;
    }

    /// <summary>A kernel thread: <c>fpu_clone(minimal)</c> copies init_fpstate; it never has user FPU state.</summary>
    public KernelTask SpawnKernelThread(string name)
    {
        var t = NewLeader(name, kthread: true);
        System.InitFpStateRegs[..System.InitFpStateCopySize].CopyTo(t.Fpu.FpState.Buffer);
        t.NeedFpuLoad = true;
        t.Pkru = InitPkruValue;
        return t;
    }

    // fpu_reset_fpstate_regs() memory part: init_fpstate's registers into the active buffer.
    private void ResetFpstateRegs(Fpu fpu)
    {
        fpu.LastCpu = -1;
        var fps = fpu.FpState;
        FpState.ResetRegs(fps.Buffer, System.InitFpStateRegs, System.InitFpStateCopySize, fps.Xfeatures, System.XsaveEnabled && System.Compacted);
    }

    internal KernelCpu RequireRunning(KernelTask task)
    {
        if (task.State != TaskState.Running || task.OnCpu < 0)
            throw new InvalidOperationException($"{task} is not running on a CPU (state {task.State})");
        return _cpus[task.OnCpu];
    }

    /// <summary>The thread-group leader's permission (<c>xstate_get_group_perm()</c>).</summary>
    public ulong GroupPerm(KernelTask task, bool guest) =>
        guest ? task.Leader.Fpu.GuestPerm.StatePerm : task.Leader.Fpu.Perm.StatePerm;

    /// <summary><c>fpu_state_size_dynamic()</c>.</summary>
    public bool FpuStateSizeDynamic => System.DynamicStateEnabled;
}
