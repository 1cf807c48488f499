namespace XsaveLab.Arch.Cpuid;

/// <summary>Reads a dump file as text through <see cref="BoundedTextFile"/>: only a regular file, at most
/// <see cref="CpuProfileLimits.MaxFileBytes"/>, lines of at most <see cref="CpuProfileLimits.MaxLineChars"/>.
/// Problems become <see cref="CpuProfileFormatException"/>.</summary>
internal static class DumpFile
{
    private static readonly TextFileLimits Limits =
        new("a CPUID dump", CpuProfileLimits.MaxFileBytes, CpuProfileLimits.MaxLineChars, "a CPUID dump line");

    public static string ReadText(string path) =>
        BoundedTextFile.TryRead(path, Limits, out var text, out var error)
            ? text
            : throw new CpuProfileFormatException(path, error.Line, error.Message);
}
