using XsaveLab.Kvm;
using XsaveLab.Kvm.Caps;
using XsaveLab.Kvm.Checks;
using XsaveLab.Kvm.Guest;
using XsaveLab.Kvm.Script;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Sim.Explore;

/// <summary>Exhaustive bounded exploration of the kernel + KVM model from boot (docs/explore.md): breadth-first
/// over <see cref="ExploreAlphabet"/>, each canonical state (<see cref="StateKey"/>) visited once, every state
/// checked against <see cref="SeriesInvariants"/>. Breadth-first order makes the first trace found for an
/// invariant a shortest one. A violating state is reported and not expanded.</summary>
/// <remarks>A state is identified by its parent and the action that reached it. In <see cref="ExploreMode.Copy"/>
/// the states of the frontier are kept in memory (up to <see cref="ExploreOptions.MemoryLimit"/>) and a successor
/// is the parent's deep copy (<see cref="VmmRunner.Clone()"/>) after one action; in <see cref="ExploreMode.Replay"/>
/// it is built by replaying the whole path on a fresh VMM process sharing one booted host configuration. Either way
/// every transition runs the same code a replayed script runs.</remarks>
public sealed class StateExplorer
{
    private readonly ExploreOptions _o;
    private readonly IReadOnlyList<ExploreAction> _actions;
    private readonly HostFpuConfig _host;
    private readonly KvmCaps _caps;
    private readonly ScriptLine[] _setup;
    private readonly StateKey _key = new();

    // Node i: reached from _parent[i] by _action[i] (node 0 is the booted system).
    private readonly List<int> _parent = [-1];
    private readonly List<short> _action = [-1];

    public StateExplorer(ExploreOptions options)
    {
        if (options.Depth < 0 || options.Depth > ExploreOptions.MaxDepth)
            throw new ArgumentOutOfRangeException(nameof(options), options.Depth, $"depth 0..{ExploreOptions.MaxDepth}");
        _o = options;
        _actions = ExploreAlphabet.Create(options.Tasks, options.Vcpus);
        if (KvmLimits.Problem(options.Settings.Cpu) is { } problem)
            throw new ArgumentException($"CPU '{options.Settings.Cpu.Name}': {problem}", nameof(options));
        _host = HostFpuConfig.Boot(options.Settings.Cpu, options.Settings.Kernel, options.Settings.UserShadowStack);
        _caps = KvmCaps.Create(_host, options.Settings.Release, options.Settings.Flavour);
        _setup = [.. VmmScript.Parse(ExploreAlphabet.Setup, "explore").Lines];
    }

    public IReadOnlyList<ExploreAction> Actions => _actions;

    /// <summary>Explores to the depth bound. <paramref name="progress"/> is told each completed depth and its state count.</summary>
    public ExploreResult Run(Action<int, long>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var seen = new HashSet<(ulong, ulong)>();
        var perDepth = new List<long>();
        var found = new Dictionary<string, ExploreViolation>(StringComparer.Ordinal);
        long transitions = 0;
        bool copy = _o.Mode == ExploreMode.Copy;

        var root = NewRunner();
        _boot = copy ? root.Clone(_map) : null;
        seen.Add(_key.Of(root));
        Report(root, 0, found);
        var frontier = new List<int>();
        var states = new List<Stored>();
        if (found.Count == 0)
        {
            frontier.Add(0);
            states.Add(new Stored(copy ? root : null, 0));
        }
        perDepth.Add(1);
        progress?.Invoke(0, 1);
        var path = new List<int>();
        var enabled = new List<int>();
        long held = 0;
        for (int depth = 1; depth <= _o.Depth && frontier.Count > 0; depth++)
        {
            var next = new List<int>();
            var nextStates = new List<Stored>();
            for (int i = 0; i < frontier.Count; i++)
            {
                int node = frontier[i];
                var (stored, bytes) = states[i];
                states[i] = default;
                held -= stored is null ? 0 : bytes;
                Path(node, path);
                var parent = stored ?? Rebuild(path);
                enabled.Clear();
                for (int a = 0; a < _actions.Count; a++)
                    if (Enabled(_actions[a], parent))
                        enabled.Add(a);
                for (int e = 0; e < enabled.Count; e++)
                {
                    int a = enabled[e];
                    // The last successor reuses the parent's own runner instead of a copy or a fresh replay.
                    var r = parent;
                    long size = bytes;
                    if (e < enabled.Count - 1)
                    {
                        long before = GC.GetAllocatedBytesForCurrentThread();
                        r = copy ? Copy(parent) : Replay(path);
                        size = GC.GetAllocatedBytesForCurrentThread() - before;
                    }
                    Apply(r, _actions[a]);
                    transitions++;
                    if (!seen.Add(_key.Of(r)))
                        continue;
                    int id = _parent.Count;
                    _parent.Add(node);
                    _action.Add((short)a);
                    if (Report(r, id, found))
                        continue;
                    next.Add(id);
                    bool keep = copy && depth < _o.Depth && held + size <= _o.MemoryLimit;
                    held += keep ? size : 0;
                    nextStates.Add(new Stored(keep ? r : null, size));
                }
            }
            perDepth.Add(next.Count + CountViolatingAt(depth));
            progress?.Invoke(depth, perDepth[^1]);
            frontier = next;
            states = nextStates;
        }
        clock.Stop();
        var s = _o.Settings;
        return new ExploreResult(s.Kernel.Name, s.Cpu.Name, s.Release.Name(), _o.Depth, _o.Tasks, _o.Vcpus, _actions.Count,
            perDepth.Sum(), perDepth, transitions, clock.Elapsed.TotalSeconds,
            [.. found.Values.OrderBy(v => v.Trace.Count).ThenBy(v => SeriesInvariants.All.ToList().FindIndex(i => i.Id == v.Invariant))]);
    }

    /// <summary>A frontier state: its runner when kept in memory (null: rebuilt when expanded) and the bytes its
    /// copy allocated (what keeping it costs).</summary>
    private readonly record struct Stored(VmmRunner? Runner, long Bytes);

    // Copy mode: the booted system (never run further) that states past the memory limit are rebuilt from, and the
    // map every copy reuses.
    private VmmRunner? _boot;
    private readonly CloneMap _map = new();

    private VmmRunner Copy(VmmRunner r)
    {
        _map.Clear();
        return r.Clone(_map);
    }

    /// <summary>A state that was not kept: its path replayed on a copy of the booted system (copy mode) or on a new
    /// VMM process (replay mode).</summary>
    private VmmRunner Rebuild(List<int> path)
    {
        if (_boot is null)
            return Replay(path);
        var r = Copy(_boot);
        foreach (int a in path)
            Apply(r, _actions[a]);
        return r;
    }

    // Violating states are counted at their depth too (they were visited, just not expanded).
    private readonly Dictionary<int, long> _violatingAt = [];

    private long CountViolatingAt(int depth) => _violatingAt.GetValueOrDefault(depth);

    private VmmRunner NewRunner()
    {
        var r = new VmmRunner(_o.Settings, s => new KvmSystem(s, _host, _caps));
        foreach (var l in _setup)
            r.Execute(l);
        return r;
    }

    private void Path(int node, List<int> path)
    {
        path.Clear();
        for (int n = node; n > 0; n = _parent[n])
            path.Add(_action[n]);
        path.Reverse();
    }

    private VmmRunner Replay(List<int> path)
    {
        var r = NewRunner();
        foreach (int a in path)
            Apply(r, _actions[a]);
        return r;
    }

    private static void Apply(VmmRunner r, ExploreAction a)
    {
        foreach (var l in a.Lines)
            r.Execute(l);
    }

    private bool Enabled(ExploreAction a, VmmRunner r)
    {
        var tasks = r.Tasks;
        bool vmm = tasks[0].State != TaskState.Dead;
        switch (a.Guard)
        {
            case ActionGuard.SwitchIdle:
                return r.System!.Kernel.Cpus[0].Current is not null;
            case ActionGuard.VcpuFree:
                return vmm && r.Vm is { } vm && vm.Vcpu(a.Index) is null;
            case ActionGuard.VcpuLive:
                return vmm && r.Vm?.Vcpu(a.Index) is { Destroyed: false };
        }
        if (a.Index >= tasks.Count || tasks[a.Index].State == TaskState.Dead)
            return false;
        return a.Guard switch
        {
            ActionGuard.TaskAliveRoom => tasks.Count < _o.Tasks,
            ActionGuard.TaskFrame => r.PendingFrame(tasks[a.Index]) is not null,
            ActionGuard.SwitchTo => r.System!.Kernel.Cpus[0].Current != tasks[a.Index],
            _ => true,
        };
    }

    /// <summary>Checks the invariants in node <paramref name="id"/>'s state; records the first trace per invariant.
    /// True when any invariant is broken.</summary>
    private bool Report(VmmRunner r, int id, Dictionary<string, ExploreViolation> found)
    {
        var bad = SeriesInvariants.Check(r.System!, r.UsableVcpus);
        if (bad.Count == 0)
            return false;
        var path = new List<int>();
        Path(id, path);
        _violatingAt[path.Count] = _violatingAt.GetValueOrDefault(path.Count) + 1;
        foreach (var v in bad)
            if (!found.ContainsKey(v.Invariant.Id))
                found[v.Invariant.Id] = new ExploreViolation(v.Invariant.Id, v.Invariant.Rule, v.Detail,
                    [.. path.Select(a => _actions[a].Text)], Script(path, v));
        return true;
    }

    private string Script(List<int> path, InvariantViolation v)
    {
        var s = _o.Settings;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# xsavelab explore: shortest trace breaking {v.Invariant.Id} ({v.Invariant.Rule})\n");
        sb.Append(CultureInfo.InvariantCulture, $"# {v.Detail}\n");
        sb.Append(CultureInfo.InvariantCulture, $"# replay: xsavelab kvm --vmm FILE{(CpuCatalog.TryGet(s.Cpu.Name, out var c) && ReferenceEquals(c, s.Cpu) ? "" : $" --cpu {s.Cpu.Name}")}{(KernelVariants.Find(s.Kernel.Name) == s.Kernel ? "" : $" --kernel FILE (the variant file of '{s.Kernel.Name}')")}\n");
        if (CpuCatalog.TryGet(s.Cpu.Name, out var cat) && ReferenceEquals(cat, s.Cpu))
            sb.Append(CultureInfo.InvariantCulture, $"cpu {s.Cpu.Name}\n");
        if (KernelVariants.Find(s.Kernel.Name) == s.Kernel)
            sb.Append(CultureInfo.InvariantCulture, $"kernel {s.Kernel.Name}\n");
        sb.Append(CultureInfo.InvariantCulture, $"kvm {s.Release.Name()}\n");
        sb.Append(CultureInfo.InvariantCulture, $"flavour {s.Flavour.Name}\n");
        sb.Append(ExploreAlphabet.Setup).Append('\n');
        for (int i = 0; i < path.Count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"# {i + 1}. {_actions[path[i]].Text}\n");
            foreach (var line in _actions[path[i]].ScriptLines)
                sb.Append(line).Append('\n');
        }
        sb.Append("check\nexpect ok\n");
        return sb.ToString();
    }
}
