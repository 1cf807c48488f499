namespace XsaveLab.Cli.Cli;

/// <summary>Text from inputs (file contents, option values, brand strings, names) made safe for a terminal and for
/// a one-line error: control characters (C0, DEL, C1, and the Unicode line and paragraph separators) become
/// visible escapes (<c>\n</c>, <c>\x1b</c>, <c>\u2028</c>), so ESC or BEL in a CPU brand cannot drive the terminal
/// and a newline in an input cannot split an error line; and a long text is cut to an excerpt.</summary>
public static class SafeText
{
    /// <summary>The longest excerpt of an input quoted in a message.</summary>
    public const int MaxExcerpt = 120;

    /// <summary>The longest error line (a message may quote several excerpts and paths).</summary>
    public const int MaxLine = 2000;

    /// <summary>Escapes control characters; cuts after <paramref name="max"/> characters of input, saying how long
    /// the whole was.</summary>
    public static string Escape(string? text, int max = int.MaxValue)
    {
        if (text is null)
            return "";
        int n = Math.Min(text.Length, max);
        var sb = new StringBuilder(n + 16);
        for (int i = 0; i < n; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ' or (>= '\x7f' and <= '\x9f'):
                    sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                case '\u2028' or '\u2029' or '\ufeff':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    // A lone half of a surrogate pair would print as garbage: escape it too.
                    if (char.IsSurrogate(c) && !(i + 1 < n && char.IsSurrogatePair(c, text[i + 1])) && !(i > 0 && char.IsSurrogatePair(text[i - 1], c)))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        if (text.Length > n)
            sb.Append(CultureInfo.InvariantCulture, $"… ({text.Length} characters in all)");
        return sb.ToString();
    }

    /// <summary>A short excerpt of an input, for quoting it in a message.</summary>
    public static string Excerpt(string? text) => Escape(text, MaxExcerpt);

    /// <summary>A whole message as one bounded line.</summary>
    public static string Line(string message) => Escape(message, MaxLine);
}
