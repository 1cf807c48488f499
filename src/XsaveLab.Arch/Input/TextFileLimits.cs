namespace XsaveLab.Arch.Input;

/// <summary>What a reader of user text files accepts: at most <paramref name="MaxBytes"/> bytes and, when
/// <paramref name="MaxLineChars"/> is positive, lines of at most that many characters. <paramref name="Noun"/>
/// ("a CPUID dump") and <paramref name="LineNoun"/> ("a CPUID dump line") name the kind of file in messages.
/// <paramref name="StrictUtf8"/> refuses bytes that are not UTF-8 instead of replacing them.</summary>
public sealed record TextFileLimits(string Noun, int MaxBytes, int MaxLineChars = 0, string? LineNoun = null, bool StrictUtf8 = false)
{
    /// <summary>The size bound as a person reads it: "4 MiB", "1024 KiB" or "100 bytes".</summary>
    public string MaxBytesText => MaxBytes % (1 << 20) == 0 ? $"{MaxBytes >> 20} MiB"
        : MaxBytes % 1024 == 0 ? $"{MaxBytes >> 10} KiB" : $"{MaxBytes} bytes";
}
