namespace XsaveLab.Arch.Cpuid;

/// <summary>A CPUID dump could not be read, or its values cannot be modelled; names the file and, where it
/// applies, the line. This is bad input, reported to the user, never API misuse.</summary>
public sealed class CpuProfileFormatException(string file, int line, string problem)
    : Exception(line > 0 ? $"{file}:{line}: {problem}" : $"{file}: {problem}")
{
    public string File { get; } = file;

    /// <summary>1-based line number, or 0 when the problem is with the file as a whole.</summary>
    public int Line { get; } = line;

    public string Problem { get; } = problem;
}
