namespace XsaveLab.Kernel.Tasks;

/// <summary>Outcome of a user-mode register access: done, or a signal the task got instead.</summary>
public readonly record struct UserAccessResult(bool Done, SignalInfo? Signal, XsaveFault LastFault)
{
    public static readonly UserAccessResult Ok = new(true, null, XsaveFault.None);

    public override string ToString() => Done ? "ok" : $"{Signal} after {LastFault}";
}
