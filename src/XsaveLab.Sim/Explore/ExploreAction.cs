using XsaveLab.Kvm.Script;

namespace XsaveLab.Sim.Explore;

/// <summary>What an action needs of the state before it is tried (so a successor is never a no-op failure).</summary>
public enum ActionGuard : byte
{
    /// <summary>Task <see cref="ExploreAction.Index"/> is alive.</summary>
    TaskAlive,
    /// <summary>The task is alive and there is room for one more task.</summary>
    TaskAliveRoom,
    /// <summary>The task is alive and has a signal frame pending.</summary>
    TaskFrame,
    /// <summary>The task is alive and not current on CPU 0.</summary>
    SwitchTo,
    /// <summary>CPU 0 is not idle.</summary>
    SwitchIdle,
    /// <summary>The VMM thread is alive and vCPU <see cref="ExploreAction.Index"/> does not exist.</summary>
    VcpuFree,
    /// <summary>The VMM thread is alive and vCPU <see cref="ExploreAction.Index"/> exists.</summary>
    VcpuLive,
}

/// <summary>One letter of the explorer's alphabet: the script lines it runs (the <c>kvm --vmm</c> format, parsed
/// once), the text a trace shows, and when it applies.</summary>
public sealed record ExploreAction(string Text, IReadOnlyList<ScriptLine> Lines, ActionGuard Guard, int Index)
{
    /// <summary>The script lines, one per line, as a replayable script holds them.</summary>
    public IEnumerable<string> ScriptLines => Lines.Select(l => l.Text);
}
