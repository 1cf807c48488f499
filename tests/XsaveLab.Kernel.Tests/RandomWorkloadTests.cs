namespace XsaveLab.Kernel.Tests;

/// <summary>A seeded random sequence of 2 000+ actions across 4 CPUs and up to 8 tasks (fork, exec, exit, prctl,
/// sigaltstack, AMX use, switches, block/wake, kernel FPU use, vCPU fpstate alloc/swap/enable/free) on every
/// catalog CPU and variant. After every action the invariants (docs/linux-fpu-core.md) hold and every context's registers are what
/// it last wrote. The seed is in every failure message.</summary>
public class RandomWorkloadTests
{
    [Theory]
    [MemberData(nameof(KernelKit.CpusAndVariants), MemberType = typeof(KernelKit))]
    public void Invariants_hold_through_a_random_workload(string cpu, string variant)
    {
        int seed = Environment.GetEnvironmentVariable("XSAVELAB_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)
            : XsaveLab.Tests.StableSeed.Of(cpu, variant);
        new Workload(KernelKit.Kernel(cpu, variant, cpus: 4), seed, $"{cpu}/{variant}").Run(2000);
    }

    private sealed class Workload(LinuxKernel k, int seed, string name)
    {
        private readonly Random _rng = new(seed);
        private readonly Dictionary<object, Dictionary<int, byte[]>> _expect = [];
        private readonly int[] _comps = KernelKit.TestableComponents(k).ToArray();
        private int _step;
        private string _action = "";
        private readonly Dictionary<string, int> _done = [];

        private string Ctx => $"{name} seed {seed} step {_step} ({_action})";

        private List<KernelTask> Live => k.Tasks.Where(t => t.State != TaskState.Dead).ToList();

        private T Pick<T>(IReadOnlyList<T> list) => list[_rng.Next(list.Count)];

        private object Context(KernelTask t) =>
            t.Fpu.FpState.IsGuest ? t.Guests.First(g => g.FpState == t.Fpu.FpState) : t;

        private bool InGuest(KernelTask t) => t.Fpu.FpState.IsGuest;

        private Dictionary<int, byte[]> Zeros() => _comps.ToDictionary(c => c, c => new byte[k.System.FeatureSize(c)]);

        public void Run(int steps)
        {
            for (int i = 0; i < 3; i++)
                _expect[k.SpawnProcess($"p{i}")] = Zeros();
            for (_step = 0; _step < steps; _step++)
            {
                Act();
                _done[_action] = _done.GetValueOrDefault(_action) + 1;
                var bad = FpuInvariants.Check(k);
                Assert.True(bad.Count == 0, $"{Ctx}: {string.Join("; ", bad)}");
                Assert.True(k.Warnings.Count == 0, $"{Ctx}: WARN {string.Join("; ", k.Warnings.Entries)}");
            }
            Assert.True(k.Counters.Saves > 100 && k.Counters.Restores > 100, $"{name} seed {seed}: too little switching");
            foreach (var a in new[] { "schedule", "use component", "fork", "exec", "exit", "vCPU alloc", "vCPU swap", "kernel_fpu_begin/end" })
                Assert.True(_done.GetValueOrDefault(a) > 10, $"{name} seed {seed}: action '{a}' ran {_done.GetValueOrDefault(a)} times");
            if ((k.System.UserCfg.MaxFeatures & XFeatureMasks.XtileData) != 0)
                Assert.True(k.Counters.Reallocations > 0 && k.Counters.XfdFaults > 0, $"{name} seed {seed}: no AMX reallocation happened");
        }

        private void Verify(KernelTask t)
        {
            if (!_expect.TryGetValue(Context(t), out var exp))
                return;
            foreach (var (c, want) in exp)
                Assert.True(want.AsSpan().SequenceEqual(k.ReadComponent(t, c)), $"{Ctx}: {t} component {c} (context {Context(t)}) does not hold its last value");
        }

        private KernelTask? Running() => Live.Where(t => t.State == TaskState.Running && !t.IsKernelThread).OrderBy(_ => _rng.Next()).FirstOrDefault();

        private void Act()
        {
            int roll = _rng.Next(100);
            var live = Live;
            switch (roll)
            {
                case < 25:
                    {
                        _action = "schedule";
                        var cands = live.Where(t => t.State is TaskState.Runnable or TaskState.Running && !t.IsKernelThread).ToList();
                        if (cands.Count == 0)
                            goto default;
                        var t = Pick(cands);
                        int cpu = t.OnCpu >= 0 ? t.OnCpu : _rng.Next(k.Cpus.Count);
                        k.Schedule(cpu, t);
                        Verify(t);
                        break;
                    }
                case < 45:
                    {
                        _action = "use component";
                        if (Running() is not { } t)
                            break;
                        var comps = InGuest(t) ? _comps.Where(c => c is 1 or 2).ToArray() : _comps;
                        if (comps.Length == 0)
                            break;
                        int c = comps[_rng.Next(comps.Length)];
                        var r = k.UseComponent(t, c, KernelKit.RandomData(k, c, _rng));
                        var ctx = Context(t);
                        if (c == (int)XFeature.XtileData && (k.GroupPerm(t, false) & XFeatureMasks.XtileData) == 0)
                        {
                            Assert.True(!r.Done && r.Signal?.Signo == SignalInfo.SIGILL && r.Signal?.Code == SignalInfo.ILL_ILLOPC, $"{Ctx}: {r}");
                            break;
                        }
                        Assert.True(r.Done, $"{Ctx}: {t} component {c}: {r}");
                        if (!_expect.TryGetValue(ctx, out var e))
                            _expect[ctx] = e = [];
                        e[c] = k.ReadComponent(t, c).ToArray();
                        break;
                    }
                case < 50:
                    {
                        _action = "request AMX permission";
                        if (Running() is not { } t)
                            break;
                        bool guest = _rng.Next(3) == 0;
                        long r = k.ArchPrctlRequest(t, ArchPrctl.XcompTileData, guest);
                        bool amx = (k.System.UserCfg.MaxFeatures & XFeatureMasks.XtileData) != 0;
                        Assert.True(amx ? r is 0 or -(long)Errno.ENOSPC or -(long)Errno.EBUSY : r == -(long)Errno.EOPNOTSUPP, $"{Ctx}: {ErrnoNames.Result(r)}");
                        if (r == -(long)Errno.EBUSY)
                            Assert.True(guest && t.Leader.Fpu.GuestPerm.GuestLocked, Ctx);
                        break;
                    }
                case < 53:
                    {
                        _action = "sigaltstack";
                        if (Running() is not { } t)
                            break;
                        ulong[] sizes = [0, 2048, (ulong)k.System.MaxFrameSize, (ulong)(2 * k.System.MaxFrameSize)];
                        k.Sigaltstack(t, sizes[_rng.Next(sizes.Length)]);
                        break;
                    }
                case < 60:
                    {
                        _action = "fork";
                        if (live.Count(t => !t.IsKernelThread) >= 8 || Running() is not { } t || InGuest(t))
                            break;
                        bool thread = _rng.Next(2) == 0;
                        var child = k.Fork(t, thread);
                        var e = _expect.TryGetValue(t, out var pe) ? new Dictionary<int, byte[]>(pe) : [];
                        if (e.ContainsKey((int)XFeature.XtileData))
                            e[(int)XFeature.XtileData] = new byte[k.System.FeatureSize((int)XFeature.XtileData)];
                        _expect[child] = e;
                        Assert.Equal(0UL, child.Fpu.FpState.XstateBv & XFeatureMasks.Pasid);
                        if (!thread && k.FpuStateSizeDynamic)
                            Assert.Equal(t.Leader.Fpu.Perm, child.Fpu.Perm);
                        break;
                    }
                case < 63:
                    {
                        _action = "exec";
                        if (Running() is not { } t || InGuest(t))
                            break;
                        foreach (var g in t.Group.Threads.Where(x => x != t).SelectMany(x => x.Guests))
                            _expect.Remove(g);
                        k.Exec(t);
                        _expect[t] = Zeros();
                        Assert.Equal(t.Fpu.EmbeddedFpState, t.Fpu.FpState);
                        Assert.Equal(k.System.KernelCfg.DefaultFeatures, t.Fpu.Perm.StatePerm);
                        Verify(t);
                        break;
                    }
                case < 66:
                    {
                        _action = "exit";
                        var users = live.Where(t => !t.IsKernelThread).ToList();
                        if (users.Count <= 2)
                            break;
                        var t = Pick(users);
                        foreach (var g in t.Guests)
                            _expect.Remove(g);
                        k.Exit(t);
                        _expect.Remove(t);
                        break;
                    }
                case < 72:
                    {
                        _action = "block/wake";
                        var t = Pick(live);
                        if (t.State == TaskState.Blocked)
                            k.Wake(t);
                        else if (live.Count(x => x.State != TaskState.Blocked) > 2)
                            k.Block(t);
                        break;
                    }
                case < 76:
                    {
                        _action = "vCPU alloc";
                        if (Running() is not { } t || t.Guests.Count >= 2 || InGuest(t))
                            break;
                        var g = k.FpuAllocGuestFpstate(t);
                        _expect[g] = Zeros().Where(p => p.Key is 1 or 2).ToDictionary();
                        Assert.True(t.Leader.Fpu.GuestPerm.GuestLocked, Ctx);
                        break;
                    }
                case < 84:
                    {
                        _action = "vCPU swap";
                        if (Running() is not { } t || t.Guests.Count == 0)
                            break;
                        if (InGuest(t))
                            k.FpuSwapKvmFpstate(t, (FpuGuest)Context(t), enterGuest: false);
                        else
                            k.FpuSwapKvmFpstate(t, Pick(t.Guests), enterGuest: true);
                        Verify(t);
                        break;
                    }
                case < 86:
                    {
                        _action = "vCPU AMX enable";
                        if (Running() is not { } t || t.Guests.Count == 0)
                            break;
                        var g = Pick(t.Guests);
                        ulong before = g.Xfeatures;
                        bool permitted = (k.GroupPerm(t, true) & XFeatureMasks.XtileData) != 0;
                        long r = k.FpuEnableGuestXfdFeatures(t, g, XFeatureMasks.Xtile & k.System.UserCfg.MaxFeatures);
                        Assert.True(r == 0 || (r == -(long)Errno.EPERM && !permitted), $"{Ctx}: {ErrnoNames.Result(r)}");
                        if (r == 0 && g.Xfeatures != before && !g.FpState!.InUse)
                            _expect[g] = Zeros().Where(p => p.Key is 1 or 2).ToDictionary();
                        break;
                    }
                case < 88:
                    {
                        _action = "vCPU free";
                        var owners = live.Where(t => t.Guests.Any(g => !g.FpState!.InUse)).ToList();
                        if (owners.Count == 0)
                            break;
                        var g = owners[_rng.Next(owners.Count)].Guests.First(x => !x.FpState!.InUse);
                        k.FpuFreeGuestFpstate(g);
                        _expect.Remove(g);
                        break;
                    }
                case < 93:
                    {
                        _action = "kernel_fpu_begin/end";
                        int cpu = _rng.Next(k.Cpus.Count);
                        k.KernelFpuBegin(cpu, LinuxKernel.KfpuMxcsr | (_rng.Next(2) == 0 ? LinuxKernel.Kfpu387 : 0));
                        int c = _comps.Contains(2) ? 2 : 1;
                        Assert.False(k.KernelFpuUse(cpu, c, KernelKit.RandomData(k, c, _rng)).IsFault, Ctx);
                        k.KernelFpuEnd(cpu);
                        if (k.Cpus[cpu].Current is { IsKernelThread: false } cur)
                            Verify(cur);
                        break;
                    }
                default:
                    {
                        _action = "deschedule";
                        k.Deschedule(_rng.Next(k.Cpus.Count));
                        break;
                    }
            }
        }
    }
}
