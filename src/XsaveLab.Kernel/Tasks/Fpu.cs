namespace XsaveLab.Kernel.Tasks;

/// <summary><c>struct fpu</c> of a task (appended to task_struct): the active fpstate pointer, the saved host
/// pointer while a guest fpstate is swapped in, the permissions and the embedded default-sized buffer.</summary>
public sealed class Fpu
{
    internal Fpu(FpState embedded)
    {
        EmbeddedFpState = embedded;
        FpState = embedded;
    }

    /// <summary>last_cpu: the CPU whose registers hold this context, −1 when memory is newer.</summary>
    public int LastCpu { get; internal set; } = -1;

    /// <summary>avx512_timestamp: model time of the last save that found ZMM_Hi256/Hi16_ZMM in use.</summary>
    public long Avx512Timestamp { get; internal set; }

    /// <summary>fpstate: the active buffer.</summary>
    public FpState FpState { get; internal set; }

    /// <summary>__task_fpstate: the host fpstate while a guest fpstate is active, else null.</summary>
    public FpState? TaskFpState { get; internal set; }

    public FpuStatePerm Perm { get; internal set; }

    public FpuStatePerm GuestPerm { get; internal set; }

    /// <summary>__fpstate: the buffer embedded in the task allocation (kernel default size).</summary>
    public FpState EmbeddedFpState { get; private set; }

    /// <summary>The copy of <paramref name="o"/> within the copy <paramref name="map"/> is building.</summary>
    internal static Fpu Clone(Fpu o, CloneMap map) => map.Get(o, static (o, map) =>
    {
        var c = (Fpu)o.MemberwiseClone();
        map.Add(o, c);
        c.FpState = map.Get(o.FpState, FpState.Clone);
        c.TaskFpState = map.Get(o.TaskFpState, FpState.Clone);
        c.EmbeddedFpState = map.Get(o.EmbeddedFpState, FpState.Clone);
        return c;
    });
}
