namespace XsaveLab.Kvm.Script;

/// <summary>The bounds a VMM script is read within, and how script text is quoted in an error.</summary>
public static class ScriptText
{
    /// <summary>A script file is at most this many bytes: far above any hand-written sequence (the built-ins are
    /// under 2 KiB), small enough to read whole.</summary>
    public const int MaxFileBytes = 4 << 20;

    /// <summary>A script line is at most this many characters (the longest built-in line has about 200).</summary>
    public const int MaxLineChars = 4096;

    /// <summary>A script makes at most this many calls: each may boot a kernel model (<c>restore</c>), so a
    /// script's running time stays bounded.</summary>
    public const int MaxCalls = 10_000;

    /// <summary>A script names tasks 0..MaxTasks and forks or clones at most this many: a small system is what
    /// task lines are for, and the bound keeps a script's memory bounded.</summary>
    public const int MaxTasks = 64;

    /// <summary>At most <paramref name="max"/> characters of <paramref name="text"/>, control characters escaped, so
    /// an error line stays one short line whatever the input holds.</summary>
    public static string Excerpt(string text, int max = 40)
    {
        var sb = new StringBuilder();
        foreach (char c in text)
        {
            if (sb.Length >= max)
            {
                sb.Append('…');
                break;
            }
            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\u200e' or '\u200f' or '\u202a' or '\u202b' or '\u202c' or '\u202d' or '\u202e')
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else
                sb.Append(c);
        }
        return sb.ToString();
    }
}
