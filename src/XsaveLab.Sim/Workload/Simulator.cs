namespace XsaveLab.Sim.Workload;

/// <summary>A discrete-event scheduler over the booted FPU model: CPUs with run queues, tasks that block on
/// pipes and are woken, vCPU threads in KVM_RUN loops, AMX users and sleeping tasks. Every context switch
/// runs the model's save instruction on the outgoing task's fpstate and its restore on the incoming one,
/// on real buffers. The decisions and the transfers (instruction, RFBM, bytes counted from what it wrote and
/// read) are the kernel model's own <see cref="FpuSwitchPolicy"/>; only the bookkeeping here is different.</summary>
/// <remarks>
/// <para>Kernel paths followed (arch/x86/include/asm/fpu/sched.h, kernel/fpu/context.h, core.c):
/// <c>switch_fpu()</c> — unless TIF_NEED_FPU_LOAD is already set, set it, <c>save_fpregs_to_fpstate()</c> →
/// <c>os_xsave()</c> with RFBM = <c>fpstate->xfeatures</c>, <c>last_cpu</c> = this CPU;
/// <c>switch_fpu_return()</c> → <c>fpregs_restore_userregs()</c> — restore only when
/// <c>fpregs_state_valid()</c> fails (another fpu owns the registers or the task last ran elsewhere), via
/// <c>restore_fpregs_from_fpstate(fpstate, XFEATURE_MASK_FPSTATE)</c>: <c>xfd_update_state()</c> then
/// <c>os_xrstor()</c> with RFBM = <c>fpu_kernel_cfg.max_features</c> ∩ FPSTATE; <c>fpu_swap_kvm_fpstate()</c>
/// around KVM_RUN (save current, swap fpstate pointers, restore the other). A vCPU thread preempted in
/// KVM_RUN has the guest fpstate as <c>fpu->fpstate</c>, so its switches save and restore the guest buffer.</para>
/// <para>Layout for speed and memory: tasks are struct-of-arrays, fpstates live in pooled arenas (one slot per
/// task, no per-task object), run queues are int rings; the hot loop does not allocate.</para>
/// <para>Time: each step advances its CPU's clock by the script's work plus the cost model's prediction for
/// the transfers it made (the fixed per-switch part included); the CPU with the earliest clock runs next.</para>
/// </remarks>
public sealed class Simulator
{
    private const byte KindPingA = 0, KindPingB = 1, KindVcpu = 2, KindAmx = 3, KindIdle = 4;
    private const byte FlagNeedLoad = 1, FlagInGuest = 2, FlagStarted = 4, FlagBlocked = 8;
    private const byte ArenaTask = 0, ArenaGuest = 1, ArenaAmx = 2;

    private readonly FpuSystem _sys;
    private readonly WorkloadSpec _spec;
    private readonly CostModel? _cost;
    private readonly FpuShapes _shapes;
    private readonly FpuSwitchPolicy _policy;
    private readonly ulong _restoreRfbm;
    private readonly SaveInstruction _costInstr;

    // Tasks (struct of arrays).
    private readonly byte[] _kind, _flags, _hostArena;
    private readonly int[] _cpuOf, _hostSlot, _guestSlot, _aux, _lastCpu;
    private readonly double[] _vcpuExitCredit;
    private readonly int _runnableTasks;

    // context_switch1 pairs: bytes in each pipe.
    private readonly int[] _pipeAB, _pipeBA;

    private readonly FpstateArena[] _arenas;

    // CPUs.
    private readonly XsaveCpu[] _cpus;
    private readonly double[] _clock;
    private readonly int[] _current, _owner;
    private readonly ulong[] _xfdState;
    private readonly int[][] _rq;
    private readonly int[] _rqHead, _rqCount;

    // Per-component register images written by tasks when their state is "in use".
    private readonly byte[]?[] _pattern = new byte[64][];
    private readonly ulong _pingInUse, _vcpuGuestInUse, _amxInUse;

    public SimStats Stats { get; } = new();

    public Simulator(FpuSystem sys, WorkloadSpec spec, CostModel? cost = null, XsaveCpuOptions? cpuOptions = null)
    {
        spec.Validate();
        if (Unsupported(sys, spec.GuestUsesCet) is { } why)
            throw new NotSupportedException(why);
        _sys = sys;
        _spec = spec;
        _cost = cost;
        _shapes = FpuShapes.Of(sys, spec.GuestUsesCet);
        _policy = new FpuSwitchPolicy(sys);
        _restoreRfbm = _policy.RestoreRfbm(sys.FpstateMask);
        _costInstr = sys.SaveInstruction;

        int n = spec.TotalTasks;
        _kind = new byte[n];
        _flags = new byte[n];
        _hostArena = new byte[n];
        _cpuOf = new int[n];
        _hostSlot = new int[n];
        _guestSlot = new int[n];
        _aux = new int[n];
        _lastCpu = new int[n];
        _vcpuExitCredit = new double[spec.Vcpus];
        _pipeAB = new int[spec.PingPongPairs];
        _pipeBA = new int[spec.PingPongPairs];

        bool amxAvailable = _shapes.Amx is not null;
        int amxTasks = amxAvailable ? spec.AmxUsers : 0;
        _arenas =
        [
            new FpstateArena(_shapes.Task, 0x1_0000_0000, n - amxTasks),
            new FpstateArena(_shapes.Vcpu, 0x80_0000_0000, spec.Vcpus),
            new FpstateArena(_shapes.Amx ?? _shapes.Task, 0x100_0000_0000, amxTasks),
        ];

        ulong xcr0 = sys.Xcr0;
        ulong pkru = xcr0 & XFeatureMasks.Pkru;
        _pingInUse = XFeatureMasks.FpSse | pkru | (spec.WideVectors ? xcr0 & (XFeatureMasks.Ymm | XFeatureMasks.Avx512) : 0);
        _vcpuGuestInUse = XFeatureMasks.FpSse | pkru | (xcr0 & (XFeatureMasks.Ymm | XFeatureMasks.Avx512))
            | (spec.GuestUsesCet ? _shapes.Vcpu.Xfeatures & (XFeatureMasks.CetKernel | XFeatureMasks.CetUser) & sys.Xss : 0);
        _amxInUse = XFeatureMasks.FpSse | pkru | (amxAvailable ? xcr0 & XFeatureMasks.Xtile : 0);
        BuildPatterns();

        _cpus = new XsaveCpu[spec.Cpus];
        _clock = new double[spec.Cpus];
        _current = new int[spec.Cpus];
        _owner = new int[spec.Cpus];
        _xfdState = new ulong[spec.Cpus];
        _rq = new int[spec.Cpus][];
        _rqHead = new int[spec.Cpus];
        _rqCount = new int[spec.Cpus];
        var perCpu = new int[spec.Cpus];

        int t = 0;
        int Add(byte kind, int cpu, byte arena, int aux)
        {
            _kind[t] = kind;
            _cpuOf[t] = cpu;
            _hostArena[t] = arena;
            _hostSlot[t] = _arenas[arena].Allocate();
            InitFpstate(_arenas[arena], _hostSlot[t]);
            _guestSlot[t] = -1;
            _aux[t] = aux;
            _lastCpu[t] = -1;
            _flags[t] = FlagNeedLoad; // fpu_clone(): a new task returns to user through a restore
            if (kind != KindIdle)
                perCpu[cpu]++;
            return t++;
        }
        for (int p = 0; p < spec.PingPongPairs; p++)
        {
            Add(KindPingA, p % spec.Cpus, ArenaTask, p);
            Add(KindPingB, p % spec.Cpus, ArenaTask, p);
        }
        for (int v = 0; v < spec.Vcpus; v++)
        {
            int id = Add(KindVcpu, v % spec.Cpus, ArenaTask, v);
            // fpu_alloc_guest_fpstate() at vCPU creation.
            _guestSlot[id] = _arenas[ArenaGuest].Allocate();
            InitFpstate(_arenas[ArenaGuest], _guestSlot[id]);
        }
        for (int a = 0; a < spec.AmxUsers; a++)
            Add(KindAmx, a % spec.Cpus, amxAvailable ? ArenaAmx : ArenaTask, a);
        for (int i = 0; i < spec.IdleTasks; i++)
            Add(KindIdle, i % spec.Cpus, ArenaTask, i);
        _runnableTasks = n - spec.IdleTasks;

        for (int c = 0; c < spec.Cpus; c++)
        {
            _cpus[c] = sys.CreateCpu(cpuOptions);
            _cpus[c].Cpl = 0;
            _xfdState[c] = sys.InitXfd;
            _rq[c] = new int[Math.Max(1, perCpu[c])];
            _current[c] = -1;
            _owner[c] = -1;
        }
        for (int id = 0; id < n; id++)
            if (_kind[id] != KindIdle)
                Enqueue(_cpuOf[id], id);
    }

    public FpuShapes Shapes => _shapes;

    /// <summary>Why the simulator cannot run on <paramref name="sys"/>, or null when it can: it needs XSAVE, and
    /// every fpstate it hands out must hold at least the legacy area and the XSAVE header (a CPU profile can
    /// claim component sizes and offsets that make the buffer smaller).</summary>
    public static string? Unsupported(FpuSystem sys, bool guestUsesCet = true)
    {
        if (!sys.XsaveEnabled || sys.SaveInstruction is SaveInstruction.Fxsave or SaveInstruction.Fnsave)
            return $"{sys.Profile.Name}: the simulator needs XSAVE (booted save instruction: {sys.SaveInstruction})";
        var shapes = FpuShapes.Of(sys, guestUsesCet);
        foreach (var (what, shape) in new[] { ("task", shapes.Task), ("vCPU", shapes.Vcpu), ("AMX", shapes.Amx ?? shapes.Task) })
            if (shape.Size < FpuSystem.XregsStateSize)
                return $"{sys.Profile.Name}: the {what} fpstate would be {Numbers.Bytes(shape.Size)}, less than the {FpuSystem.XregsStateSize}-byte legacy area and XSAVE header";
        return null;
    }

    /// <summary>Task <paramref name="task"/>'s host fpstate buffer (tasks are numbered in creation order:
    /// ping-pong pairs first, then vCPUs, AMX users, sleeping tasks).</summary>
    public ReadOnlySpan<byte> HostFpstate(int task) => _arenas[_hostArena[task]].Slot(_hostSlot[task]);

    /// <summary>Task <paramref name="task"/>'s guest fpstate (vCPU threads only).</summary>
    public ReadOnlySpan<byte> GuestFpstate(int task) =>
        _guestSlot[task] < 0 ? throw new ArgumentException($"task {task} is not a vCPU thread", nameof(task)) : _arenas[ArenaGuest].Slot(_guestSlot[task]);

    /// <summary>The components a guest writes on its first entry (vector state, PKRU, CET when it uses CET).</summary>
    public ulong VcpuGuestInUse => _vcpuGuestInUse;

    /// <summary>The components a context_switch1 task writes when it first runs.</summary>
    public ulong PingPongInUse => _pingInUse;

    /// <summary>The instruction the cost model charges saves as (XSAVES costed as XSAVEC: see <see cref="CostModel"/>).</summary>
    public SaveInstruction CostInstruction => _costInstr;

    public SimMemory Memory
    {
        get
        {
            long fp = _arenas.Sum(a => a.BytesReserved);
            int n = _kind.Length;
            // Per task: kind, flags, arena (3 bytes); cpu, host slot, guest slot, aux, last cpu (5 ints); a run-queue entry.
            long table = n * (3L + 5 * 4 + 4) + _vcpuExitCredit.Length * 8L + _pipeAB.Length * 8L;
            return new SimMemory(n, fp, table, _arenas[ArenaTask].BytesReserved + _arenas[ArenaAmx].BytesReserved, _arenas[ArenaGuest].BytesReserved);
        }
    }

    /// <summary>Runs until <paramref name="maxSwitches"/> context switches or <paramref name="maxSimulatedNs"/>
    /// of simulated time, whichever first (or until every CPU is idle).</summary>
    /// <remarks>Also stops after <paramref name="maxSteps"/> scheduling steps (default: 8 per requested switch
    /// plus a million), so a workload that never switches (one vCPU alone on a CPU) still ends.</remarks>
    public SimStats Run(long maxSwitches, double maxSimulatedNs = double.PositiveInfinity, long? maxSteps = null)
    {
        long stepsLeft = maxSteps ?? (maxSwitches > long.MaxValue / 16 ? long.MaxValue : maxSwitches * 8 + 1_000_000);
        for (int c = 0; c < _cpus.Length; c++)
            if (_current[c] < 0 && _rqCount[c] > 0)
            {
                _current[c] = Dequeue(c);
                Resume(c, _current[c]);
            }
        long limit = Stats.Switches + maxSwitches;
        while (Stats.Switches < limit && stepsLeft-- > 0)
        {
            int c = -1;
            for (int i = 0; i < _cpus.Length; i++)
                if (_current[i] >= 0 && (c < 0 || _clock[i] < _clock[c]))
                    c = i;
            if (c < 0 || _clock[c] >= maxSimulatedNs)
                break;
            int t = _current[c];
            bool yielded = Step(c, t);
            int next;
            if (yielded)
            {
                if (_rqCount[c] == 0)
                    continue; // nothing else to run: keep going without a switch
                Enqueue(c, t);
            }
            next = _rqCount[c] > 0 ? Dequeue(c) : -1;
            SwitchFpu(c, t);
            _current[c] = next;
            if (next >= 0)
            {
                Stats.Switches++;
                Resume(c, next);
                if (_cost?.Parameters.SwitchFixedNs is { } fixedNs)
                {
                    _clock[c] += fixedNs;
                    Stats.FixedNs += fixedNs;
                }
            }
        }
        double max = 0;
        for (int i = 0; i < _clock.Length; i++)
            max = Math.Max(max, _clock[i]);
        Stats.SimulatedNs = max;
        return Stats;
    }

    /// <summary>Runs task <paramref name="t"/> on CPU <paramref name="c"/> until it blocks (false) or its slice ends (true).</summary>
    private bool Step(int c, int t)
    {
        var cpu = _cpus[c];
        if ((_flags[t] & FlagStarted) == 0)
        {
            _flags[t] |= FlagStarted;
            TouchState(cpu, _kind[t] switch { KindAmx => _amxInUse, _ => _pingInUse }, c);
        }
        switch (_kind[t])
        {
            case KindPingA:
                {
                    int p = _aux[t];
                    if (_pipeBA[p] > 0)
                    {
                        _pipeBA[p]--;
                        Stats.PingPongIterations += 2;
                    }
                    _pipeAB[p]++;
                    Wake(t + 1);
                    if (_pipeBA[p] == 0)
                        return Block(t);
                    return false;
                }
            case KindPingB:
                {
                    int p = _aux[t];
                    if (_pipeAB[p] > 0)
                    {
                        _pipeAB[p]--;
                        _pipeBA[p]++;
                        Wake(t - 1);
                    }
                    return Block(t);
                }
            case KindVcpu:
                return VcpuSlice(c, t);
            case KindAmx:
                if (_shapes.Amx is not null)
                    TouchState(cpu, XFeatureMasks.XtileData & _sys.Xcr0, c);
                _clock[c] += _spec.AmxSliceNs;
                return true;
            default:
                return Block(t);
        }
    }

    private bool Block(int t)
    {
        _flags[t] |= FlagBlocked;
        return false;
    }

    private void Wake(int t)
    {
        if ((_flags[t] & FlagBlocked) == 0)
            return;
        _flags[t] &= unchecked((byte)~FlagBlocked);
        Enqueue(_cpuOf[t], t);
    }

    /// <summary>One scheduling slice of a vCPU thread: KVM_RUN (enter the guest fpstate if outside), guest runs,
    /// exits to the VMM at the configured rate (swap out, handle, swap back in), then preemption.</summary>
    private bool VcpuSlice(int c, int t)
    {
        var cpu = _cpus[c];
        if ((_flags[t] & FlagInGuest) == 0)
        {
            SwapKvmFpstate(c, t, enterGuest: true);
            if (_guestSlot[t] >= 0 && (_flags[t] & FlagStarted) != 0 && _aux[t] >= 0)
            {
                // First entry: the guest sets its registers (CET SSPs through KVM_SET_MSRS, vector state by itself).
                TouchState(cpu, _vcpuGuestInUse, c);
                _aux[t] = -1 - _aux[t];
            }
        }
        _clock[c] += _spec.VcpuSliceNs;
        int v = _aux[t] < 0 ? -1 - _aux[t] : _aux[t];
        _vcpuExitCredit[v] += _spec.VcpuExitsPerSecond * _spec.VcpuSliceNs / 1e9;
        while (_vcpuExitCredit[v] >= 1)
        {
            _vcpuExitCredit[v] -= 1;
            Stats.VcpuExits++;
            SwapKvmFpstate(c, t, enterGuest: false); // KVM_RUN returns to the VMM
            SwapKvmFpstate(c, t, enterGuest: true);  // and is called again
        }
        return true;
    }

    /// <summary><c>fpu_swap_kvm_fpstate()</c>: save the current fpstate (registers are live: the thread is
    /// running with TIF_NEED_FPU_LOAD clear), switch <c>fpu->fpstate</c>, restore the other one.</summary>
    private void SwapKvmFpstate(int c, int t, bool enterGuest)
    {
        // Simulated guests are never confidential.
        if (FpuSwitchPolicy.SwapKvmSaves(confidential: false, (_flags[t] & FlagNeedLoad) != 0))
            Save(c, t, Stats.GuestSwapSaves);
        if (enterGuest)
            _flags[t] |= FlagInGuest;
        else
            _flags[t] &= unchecked((byte)~FlagInGuest);
        if (FpuSwitchPolicy.SwapKvmRestores(confidential: false))
            Restore(c, t, Stats.GuestSwapRestores);
        _owner[c] = t;
        _lastCpu[t] = c;
        _flags[t] &= unchecked((byte)~FlagNeedLoad);
    }

    /// <summary><c>switch_fpu(prev, cpu)</c>.</summary>
    private void SwitchFpu(int c, int prev)
    {
        if (!FpuSwitchPolicy.SwitchFpuSaves((_flags[prev] & FlagNeedLoad) != 0))
            return;
        _flags[prev] |= FlagNeedLoad;
        Save(c, prev, Stats.SwitchSaves);
        _lastCpu[prev] = c;
    }

    /// <summary><c>switch_fpu_return()</c> → <c>fpregs_restore_userregs()</c>.</summary>
    private void Resume(int c, int next)
    {
        if ((_flags[next] & FlagNeedLoad) == 0)
            return;
        if (FpuSwitchPolicy.FpregsStateValid(_owner[c] == next, _lastCpu[next], c))
            Stats.RestoresSkipped++;
        else
        {
            Restore(c, next, Stats.SwitchRestores);
            _owner[c] = next; // fpregs_activate()
        }
        _flags[next] &= unchecked((byte)~FlagNeedLoad);
    }

    private (FpstateArena Arena, int Slot) Fpstate(int t) =>
        (_flags[t] & FlagInGuest) != 0 ? (_arenas[ArenaGuest], _guestSlot[t]) : (_arenas[_hostArena[t]], _hostSlot[t]);

    /// <summary><c>save_fpregs_to_fpstate()</c> → <c>os_xsave()</c>: RFBM = fpstate->xfeatures.</summary>
    private void Save(int c, int t, XferTotals totals)
    {
        var (arena, slot) = Fpstate(t);
        var x = _policy.Save(_cpus[c], arena.Slot(slot), arena.Address(slot), arena.Shape.Xfeatures);
        if (x.Fault.IsFault)
        {
            Fault(x.Fault, "save");
            return;
        }
        var counts = Count(totals, x);
        if (_cost is not null)
            Charge(c, totals, _cost.SaveNs(_costInstr, counts));
    }

    /// <summary><c>restore_fpregs_from_fpstate(fpstate, XFEATURE_MASK_FPSTATE)</c>: <c>xfd_update_state()</c>
    /// first, then XRSTORS (or XRSTOR) with RFBM = kernel max ∩ FPSTATE.</summary>
    private void Restore(int c, int t, XferTotals totals)
    {
        var cpu = _cpus[c];
        var (arena, slot) = Fpstate(t);
        ulong xfd = arena.Shape.Xfd;
        if (_policy.XfdNeedsWrite(_xfdState[c], xfd))
        {
            cpu.Wrmsr(Msr.IA32_XFD, xfd);
            _xfdState[c] = xfd;
        }
        var x = _policy.Restore(cpu, arena.Slot(slot), arena.Address(slot), _restoreRfbm);
        if (x.Fault.IsFault)
        {
            Fault(x.Fault, "restore");
            return;
        }
        var counts = Count(totals, x);
        if (_cost is not null)
            Charge(c, totals, _cost.RestoreNs(counts));
    }

    private static XferCounts Count(XferTotals totals, XstateTransfer x)
    {
        var counts = new XferCounts(System.Numerics.BitOperations.PopCount(x.Requested), System.Numerics.BitOperations.PopCount(x.Moved), x.Bytes);
        totals.Requested += counts.Requested;
        totals.Count++;
        totals.Bytes += x.Bytes;
        totals.Components += counts.Moved;
        return counts;
    }

    private void Charge(int c, XferTotals totals, double ns)
    {
        totals.PredictedNs += ns;
        _clock[c] += ns;
    }

    private void Fault(XsaveFault f, string what)
    {
        Stats.Faults++;
        Stats.FirstFault ??= $"{what}: {f}";
    }

    /// <summary>User (or guest) code writing the components of <paramref name="mask"/>: they become in use.</summary>
    private void TouchState(XsaveCpu cpu, ulong mask, int c)
    {
        while (mask != 0)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            if (_pattern[i] is { } data)
            {
                var f = cpu.Write(i, data);
                if (f.IsFault)
                    Fault(f, $"write component {i}");
            }
        }
        _ = c;
    }

    private void BuildPatterns()
    {
        var p = ComponentPatterns.For(_sys);
        for (int i = 0; i < 64; i++)
            _pattern[i] = p[i];
    }

    /// <summary>A new fpstate: <c>__fpstate_reset()</c> + <c>fpu_reset_fpstate_regs()</c>, as the kernel model
    /// does it (<see cref="FpState.ResetRegs"/>).</summary>
    private void InitFpstate(FpstateArena arena, int slot) =>
        FpState.ResetRegs(arena.Slot(slot), _sys.InitFpStateRegs, _sys.InitFpStateCopySize, arena.Shape.Xfeatures, _sys.Compacted);

    private void Enqueue(int c, int t)
    {
        var q = _rq[c];
        int i = _rqHead[c] + _rqCount[c];
        if (i >= q.Length)
            i -= q.Length;
        q[i] = t;
        _rqCount[c]++;
    }

    private int Dequeue(int c)
    {
        var q = _rq[c];
        int h = _rqHead[c];
        int t = q[h];
        _rqHead[c] = h + 1 == q.Length ? 0 : h + 1;
        _rqCount[c]--;
        return t;
    }
}
