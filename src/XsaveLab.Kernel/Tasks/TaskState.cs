namespace XsaveLab.Kernel.Tasks;

public enum TaskState : byte
{
    /// <summary>Can be scheduled.</summary>
    Runnable,

    /// <summary>Current on a CPU.</summary>
    Running,

    /// <summary>Sleeping until woken.</summary>
    Blocked,

    /// <summary>Exited.</summary>
    Dead,
}
