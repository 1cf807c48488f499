using XsaveLab.Kvm.Script;

namespace XsaveLab.Sim.Explore;

/// <summary>The explorer's actions over a small system: every task's lifecycle and FPU paths, and the VMM's KVM
/// ioctls for each vCPU. Written as script lines so a trace is a script.</summary>
public static class ExploreAlphabet
{
    /// <summary>An edited signal frame: XSTATE_BV claims supervisor state (CET_USER), which XRSTOR refuses.</summary>
    public const string EditedFrame = "xstate_bv|=0x800";

    /// <summary>An edited NT_X86_XSTATE image: XSTATE_BV claims supervisor state (CET_USER), which a UABI buffer
    /// never holds.</summary>
    public const string EditedRegset = "xstate_bv|=0x800";

    /// <summary>The lines run once before exploring (part of the initial state): the VMM opens a VM.</summary>
    public const string Setup = "KVM_CREATE_VM";

    /// <summary>The actions for <paramref name="tasks"/> tasks and <paramref name="vcpus"/> vCPUs.</summary>
    public static IReadOnlyList<ExploreAction> Create(int tasks, int vcpus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tasks, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tasks, ScriptText.MaxTasks);
        ArgumentOutOfRangeException.ThrowIfNegative(vcpus);
        var list = new List<ExploreAction>();
        for (int i = 0; i < tasks; i++)
        {
            Task(i, "fork", ActionGuard.TaskAliveRoom);
            Task(i, "clone", ActionGuard.TaskAliveRoom);
            Task(i, "exec", ActionGuard.TaskAlive);
            Task(i, "exit", ActionGuard.TaskAlive);
            Add($"switch {i}", ActionGuard.SwitchTo, i);
            Task(i, "signal", ActionGuard.TaskAlive);
            Task(i, "sigreturn", ActionGuard.TaskFrame);
            Task(i, $"sigreturn {EditedFrame}", ActionGuard.TaskFrame);
            Task(i, "sigaltstack 4096", ActionGuard.TaskAlive);
            Task(i, "use 18", ActionGuard.TaskAlive);
            Task(i, "arch_prctl REQ_XCOMP_PERM 18", ActionGuard.TaskAlive);
            Task(i, "arch_prctl REQ_XCOMP_GUEST_PERM 18", ActionGuard.TaskAlive);
            Task(i, "ptrace GET\nptrace SET", ActionGuard.TaskAlive);
            Task(i, $"ptrace GET\nptrace SET {EditedRegset}", ActionGuard.TaskAlive);
        }
        Add("switch idle", ActionGuard.SwitchIdle, 0);
        for (int j = 0; j < vcpus; j++)
        {
            Add($"KVM_CREATE_VCPU {j}", ActionGuard.VcpuFree, j);
            Vcpu(j, "KVM_GET_SUPPORTED_CPUID\nKVM_SET_CPUID2 expose=all");
            Vcpu(j, "KVM_RUN guest: cr4.osxsave; xsetbv cpuid; wrmsr IA32_XSS cpuid");
            Vcpu(j, "KVM_RUN guest: write ymm; ldtilecfg; tileloadd");
            Vcpu(j, "KVM_GET_XSAVE2\nKVM_SET_XSAVE");
            Vcpu(j, "KVM_DESTROY_VCPU");
        }
        return list;

        void Task(int i, string lines, ActionGuard g) => Add($"task {i}\n{lines}", g, i);
        void Vcpu(int j, string lines) => Add($"vcpu {j}\n{lines}", ActionGuard.VcpuLive, j);
        void Add(string lines, ActionGuard g, int index)
        {
            var script = VmmScript.Parse(lines, "explore");
            list.Add(new ExploreAction(string.Join("; ", script.Lines.Select(l => l.Text)), script.Lines, g, index));
        }
    }
}
