namespace XsaveLab.Cli.Tests.Conventions;

/// <summary>Finds the command handlers (the argument of each <c>SetAction(…)</c> call) in C# source and measures
/// them in lines. A small lexer, enough for this code base: it skips comments, character literals and string
/// literals (regular, verbatim, raw and interpolated, including the code inside interpolation holes), so parentheses
/// in text do not count.</summary>
internal static class HandlerScanner
{
    /// <summary>One handler: the line of its <c>SetAction(</c> and its length in lines, up to and including the line
    /// of the closing parenthesis.</summary>
    public sealed record Handler(int Line, int Lines);

    public static IReadOnlyList<Handler> Handlers(string source)
    {
        var found = new List<Handler>();
        const string call = "SetAction(";
        int i = 0;
        while (i < source.Length)
        {
            int next = Skip(source, i);
            if (next != i)
            {
                i = next;
                continue;
            }
            if (string.CompareOrdinal(source, i, call, 0, call.Length) == 0 && (i == 0 || !char.IsLetterOrDigit(source[i - 1])))
            {
                int open = i + call.Length - 1, close = Close(source, open);
                int first = LineOf(source, i), last = LineOf(source, close);
                found.Add(new Handler(first, last - first + 1));
                i = close + 1;
                continue;
            }
            i++;
        }
        return found;
    }

    /// <summary>The index of the parenthesis that closes the one at <paramref name="open"/>.</summary>
    private static int Close(string s, int open)
    {
        int depth = 0;
        for (int i = open; i < s.Length;)
        {
            int next = Skip(s, i);
            if (next != i)
            {
                i = next;
                continue;
            }
            if (s[i] == '(')
                depth++;
            else if (s[i] == ')' && --depth == 0)
                return i;
            i++;
        }
        throw new FormatException($"unbalanced parenthesis opened at line {LineOf(s, open)}");
    }

    private static int LineOf(string s, int index) => 1 + s.AsSpan(0, index).Count('\n');

    /// <summary>If a comment or literal starts at <paramref name="i"/>, the index just after it; otherwise
    /// <paramref name="i"/>.</summary>
    private static int Skip(string s, int i)
    {
        if (s[i] == '/' && i + 1 < s.Length && s[i + 1] == '/')
        {
            int nl = s.IndexOf('\n', i);
            return nl < 0 ? s.Length : nl;
        }
        if (s[i] == '/' && i + 1 < s.Length && s[i + 1] == '*')
        {
            int end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
            return end < 0 ? s.Length : end + 2;
        }
        if (s[i] == '\'')
        {
            int j = i + 1;
            while (j < s.Length && s[j] != '\'')
                j += s[j] == '\\' ? 2 : 1;
            return j + 1;
        }
        int p = i;
        bool interpolated = false, verbatim = false;
        while (p < s.Length && (s[p] == '$' || s[p] == '@'))
        {
            interpolated |= s[p] == '$';
            verbatim |= s[p] == '@';
            p++;
        }
        if (p >= s.Length || s[p] != '"')
            return i;
        if (!verbatim && string.CompareOrdinal(s, p, "\"\"\"", 0, 3) == 0)
        {
            int q = p;
            while (q < s.Length && s[q] == '"')
                q++;
            string fence = new('"', q - p);
            int end = s.IndexOf(fence, q, StringComparison.Ordinal);
            return end < 0 ? s.Length : end + fence.Length;
        }
        return StringEnd(s, p + 1, interpolated, verbatim);
    }

    private static int StringEnd(string s, int j, bool interpolated, bool verbatim)
    {
        while (j < s.Length)
        {
            char c = s[j];
            if (!verbatim && c == '\\')
                j += 2;
            else if (c == '"' && verbatim && j + 1 < s.Length && s[j + 1] == '"')
                j += 2;
            else if (c == '"')
                return j + 1;
            else if (interpolated && c == '{' && j + 1 < s.Length && s[j + 1] == '{')
                j += 2;
            else if (interpolated && c == '{')
                j = HoleEnd(s, j + 1);
            else
                j++;
        }
        return s.Length;
    }

    /// <summary>The index just after the <c>}</c> that closes an interpolation hole starting at <paramref name="j"/>.</summary>
    private static int HoleEnd(string s, int j)
    {
        int depth = 0;
        while (j < s.Length)
        {
            int next = Skip(s, j);
            if (next != j)
            {
                j = next;
                continue;
            }
            if (s[j] == '{')
                depth++;
            else if (s[j] == '}' && depth-- == 0)
                return j + 1;
            j++;
        }
        return s.Length;
    }
}
