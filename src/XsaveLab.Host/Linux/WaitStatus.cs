namespace XsaveLab.Host.Linux;

/// <summary>A <c>waitpid</c> status word decoded the way &lt;sys/wait.h&gt; does, plus the ptrace event
/// in bits 16..23 (PTRACE_EVENT_STOP = 128 for a PTRACE_INTERRUPT or group stop of a seized tracee).</summary>
public readonly record struct WaitStatus(int Raw)
{
    public const int PtraceEventStop = 128;

    public bool Exited => (Raw & 0x7F) == 0;
    public int ExitCode => (Raw >> 8) & 0xFF;
    public bool Signaled => (Raw & 0x7F) != 0 && (Raw & 0x7F) != 0x7F;
    public int TermSignal => Raw & 0x7F;
    public bool CoreDumped => Signaled && (Raw & 0x80) != 0;
    public bool Stopped => (Raw & 0xFF) == 0x7F;
    public int StopSignal => (Raw >> 8) & 0xFF;
    public int Event => (Raw >> 16) & 0xFF;

    public override string ToString() =>
        Exited ? $"exited {ExitCode}"
        : Signaled ? $"killed by signal {TermSignal}{(CoreDumped ? " (core dumped)" : "")}"
        : Stopped ? $"stopped by signal {StopSignal}{(Event != 0 ? $" event {Event}" : "")}"
        : $"status 0x{Raw:x}";
}
