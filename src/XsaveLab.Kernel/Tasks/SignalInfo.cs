namespace XsaveLab.Kernel.Tasks;

/// <summary>A signal the FPU code sends, as a value.</summary>
/// <param name="Signo">SIGILL = 4, SIGSEGV = 11.</param>
/// <param name="Code">si_code (ILL_ILLOPC = 1, SEGV_MAPERR... = 0 for force_sig()).</param>
/// <param name="Reason">The kernel path that sent it.</param>
public readonly record struct SignalInfo(int Signo, int Code, string Reason)
{
    public const int SIGILL = 4;
    public const int SIGSEGV = 11;
    public const int ILL_ILLOPC = 1;

    public override string ToString() => $"{(Signo == SIGILL ? "SIGILL" : Signo == SIGSEGV ? "SIGSEGV" : Signo.ToString(System.Globalization.CultureInfo.InvariantCulture))}/{Code} ({Reason})";
}
