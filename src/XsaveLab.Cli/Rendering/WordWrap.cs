namespace XsaveLab.Cli.Rendering;

/// <summary>Wrapping of text into a column: lines break at spaces and after <c>|</c> (the separator of feature
/// lists such as <c>x87|SSE|AVX</c>), never inside a number or an identifier. A break is only forced inside a
/// word when one word alone is wider than the column, which the table layout avoids by giving every column at
/// least its longest word (<see cref="LongestWord"/>).</summary>
public static class WordWrap
{
    /// <summary>The pieces that may not be split: words, with a trailing <c>|</c> kept on the word before the
    /// break. Leading spaces of a line (an indented sub-line) stay on its first word.</summary>
    public static IEnumerable<string> Words(string line)
    {
        int indent = line.Length - line.TrimStart(' ').Length;
        var word = new StringBuilder(new string(' ', indent));
        for (int i = indent; i < line.Length; i++)
        {
            char c = line[i];
            if (c == ' ')
            {
                // A figure and its binary unit ("(10.8 KiB)") stay on one line.
                if (IsUnitAfterFigure(line, i, word))
                {
                    word.Append(c);
                    continue;
                }
                if (word.Length > 0 && word.ToString().Trim().Length > 0)
                {
                    yield return word.ToString();
                    word.Clear();
                }
                continue;
            }
            word.Append(c);
            // A '|' that stands alone between spaces ("permitted | requested") is an operator, not a list separator.
            if (c == '|' && word.ToString().Trim().Length > 1)
            {
                yield return word.ToString();
                word.Clear();
            }
        }
        if (word.ToString().Trim().Length > 0)
            yield return word.ToString();
    }

    private static bool IsUnitAfterFigure(string line, int space, StringBuilder word)
    {
        string rest = line[(space + 1)..];
        return word.Length > 0 && char.IsAsciiDigit(word[^1])
            && (rest.StartsWith("KiB", StringComparison.Ordinal) || rest.StartsWith("MiB", StringComparison.Ordinal));
    }

    /// <summary>The width a column needs so that <paramref name="text"/> wraps without splitting a word.</summary>
    /// <remarks>A continuation line keeps its line's indentation, so an indented line needs the indentation as well.</remarks>
    public static int LongestWord(string text) =>
        text.Split('\n').Select(l => (l.Length - l.TrimStart(' ').Length) + Words(l).Select(w => w.Trim().Length).DefaultIfEmpty(0).Max())
            .DefaultIfEmpty(0).Max();

    /// <summary>The widest line of <paramref name="text"/> unwrapped.</summary>
    public static int LongestLine(string text) => text.Split('\n').Max(l => l.TrimEnd().Length);

    /// <summary><paramref name="text"/> as lines of at most <paramref name="width"/> characters. Explicit line
    /// breaks are kept; a continuation line takes the indentation of the line it continues.</summary>
    public static IReadOnlyList<string> Lines(string text, int width)
    {
        var lines = new List<string>();
        foreach (var paragraph in text.Split('\n'))
        {
            string line = paragraph.TrimEnd();
            if (line.Length <= width)
            {
                lines.Add(line);
                continue;
            }
            string indent = new(' ', Math.Min(line.Length - line.TrimStart(' ').Length, width / 2));
            var current = new StringBuilder();
            foreach (var w in Words(line))
            {
                string word = current.Length == 0 ? w : w.TrimStart(' ');
                // A word after a space needs that space; a word after a '|' break follows it directly.
                string sep = current.Length == 0 || current[^1] == '|' && current.Length > 1 && current[^2] != ' ' ? "" : " ";
                if (current.Length > 0 && current.Length + sep.Length + word.Length > width)
                {
                    lines.Add(current.ToString());
                    current.Clear().Append(indent);
                    sep = "";
                }
                current.Append(sep).Append(word);
                // Only a word wider than the whole column is cut (the table layout never asks for that).
                while (current.Length > width)
                {
                    lines.Add(current.ToString(0, width));
                    current.Remove(0, width).Insert(0, indent);
                }
            }
            if (current.ToString().Trim().Length > 0)
                lines.Add(current.ToString());
        }
        return lines;
    }
}
