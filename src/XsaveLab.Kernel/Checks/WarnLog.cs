namespace XsaveLab.Kernel.Checks;

/// <summary>The kernel's WARN_ON/WARN_ON_FPU/WARN_ON_ONCE conditions that fired, in order.</summary>
public sealed class WarnLog
{
    private List<string> _entries = [];

    public IReadOnlyList<string> Entries => _entries;

    public int Count => _entries.Count;

    internal void Warn(string message) => _entries.Add(message);

    public void Clear() => _entries.Clear();

    internal WarnLog Clone()
    {
        var c = (WarnLog)MemberwiseClone();
        c._entries = [.. _entries];
        return c;
    }
}
