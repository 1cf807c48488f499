using Spectre.Console;
using Spectre.Console.Rendering;
namespace XsaveLab.Cli.Rendering;

/// <summary>One cell of a <see cref="TextTable"/>: plain text (never markup, so brackets and names print as they
/// are) and an optional colour.</summary>
public readonly record struct Cell(string Text, Color? Colour = null)
{
    public static implicit operator Cell(string text) => new(text);
}

/// <summary>The one table of the text output. Its layout is chosen for the console's width: every column gets at
/// least its longest word, so cells wrap at word boundaries (<see cref="WordWrap"/>) and no number or identifier
/// is split; when even that does not fit, each row is printed as <c>key: value</c> lines instead. Headers may
/// hold <c>\n</c> to suggest where a long header breaks.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<Cell[]> _rows = [];
    private readonly HashSet<int> _right = [];
    private string? _title;

    /// <summary>The columns whose cells are right-aligned (numbers).</summary>
    public TextTable AlignRight(params int[] columns)
    {
        _right.UnionWith(columns);
        return this;
    }

    public TextTable Title(string title)
    {
        _title = title;
        return this;
    }

    public TextTable AddRow(params Cell[] cells)
    {
        if (cells.Length != headers.Length)
            throw new ArgumentException($"{cells.Length} cells for {headers.Length} columns", nameof(cells));
        _rows.Add(cells);
        return this;
    }

    public IReadOnlyList<Cell[]> Rows => _rows;

    /// <summary>The column headers (<c>\n</c> marks a suggested break).</summary>
    public IReadOnlyList<string> Headers => headers;

    /// <summary>The right-aligned (numeric) columns.</summary>
    public IReadOnlySet<int> RightAligned => _right;

    /// <summary>The title set by <see cref="Title(string)"/>, if any.</summary>
    public string? TitleText => _title;

    public void Write(IAnsiConsole console) => console.Write(new Renderable(this));

    /// <summary>The column widths for <paramref name="width"/> characters of line, or null when the table cannot
    /// fit without splitting a word (the vertical layout is used then).</summary>
    public int[]? ColumnWidths(int width)
    {
        int n = headers.Length, avail = width - (3 * n + 1);
        var min = new int[n];
        var max = new int[n];
        for (int i = 0; i < n; i++)
        {
            var texts = _rows.Select(r => r[i].Text).Append(headers[i]).ToList();
            min[i] = Math.Max(1, texts.Max(WordWrap.LongestWord));
            max[i] = Math.Max(min[i], texts.Max(WordWrap.LongestLine));
        }
        if (max.Sum() <= avail)
            return max;
        if (min.Sum() > avail)
            return null;
        // Widen the column that is furthest from its natural width, one character at a time.
        var w = (int[])min.Clone();
        for (int extra = avail - min.Sum(); extra > 0; extra--)
        {
            int best = Enumerable.Range(0, n).MaxBy(i => max[i] - w[i]);
            if (max[best] == w[best])
                break;
            w[best]++;
        }
        return w;
    }

    private IEnumerable<Segment> Render(int width)
    {
        if (_title is not null)
            foreach (var l in WordWrap.Lines(_title, width))
            {
                yield return new Segment(new string(' ', Math.Max(0, (width - l.Length) / 2)) + l);
                yield return Segment.LineBreak;
            }
        var segments = ColumnWidths(width) is { } w ? Grid(w) : Vertical(width);
        foreach (var s in segments)
            yield return s;
    }

    private IEnumerable<Segment> Grid(int[] w)
    {
        yield return Border("╭", "┬", "╮", w);
        yield return Segment.LineBreak;
        foreach (var s in Row([.. headers.Select(h => new Cell(h))], w, header: true))
            yield return s;
        yield return Border("├", "┼", "┤", w);
        yield return Segment.LineBreak;
        foreach (var row in _rows)
            foreach (var s in Row(row, w, header: false))
                yield return s;
        yield return Border("╰", "┴", "╯", w);
        yield return Segment.LineBreak;
    }

    private static Segment Border(string left, string mid, string right, int[] w) =>
        new(left + string.Join(mid, w.Select(x => new string('─', x + 2))) + right);

    private IEnumerable<Segment> Row(Cell[] cells, int[] w, bool header)
    {
        var wrapped = cells.Select((c, i) => WordWrap.Lines(c.Text, w[i])).ToArray();
        int height = wrapped.Max(l => l.Count);
        for (int line = 0; line < height; line++)
        {
            yield return new Segment("│");
            for (int i = 0; i < cells.Length; i++)
            {
                string text = line < wrapped[i].Count ? wrapped[i][line] : "";
                string pad = new(' ', w[i] - text.Length);
                yield return new Segment(" " + (_right.Contains(i) && !header ? pad : ""));
                yield return cells[i].Colour is { } colour ? new Segment(text, new Style(colour)) : new Segment(text);
                yield return new Segment((_right.Contains(i) && !header ? "" : pad) + " │");
            }
            yield return Segment.LineBreak;
        }
    }

    /// <summary>Each row as <c>key: value</c> lines, the first column's value heading the row, a blank line between
    /// rows; values wrap under themselves.</summary>
    private IEnumerable<Segment> Vertical(int width)
    {
        // A header broken after '/' ("family/\nmodel") joins without a space.
        var keys = headers.Select(h => string.Join(' ', h.Replace("/\n", "/", StringComparison.Ordinal).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries))).ToArray();
        int keyWidth = keys.Max(k => k.Length) + 2;
        bool aligned = width - keyWidth >= 24;
        for (int r = 0; r < _rows.Count; r++)
        {
            if (r > 0)
                yield return Segment.LineBreak;
            for (int i = 0; i < keys.Length; i++)
            {
                var cell = _rows[r][i];
                if (cell.Text.Length == 0)
                    continue;
                string key = i == 0 ? keys[i] + ": " : "  " + keys[i] + ": ";
                int indent = aligned ? keyWidth + 2 : 4;
                var lines = WordWrap.Lines(cell.Text, width - indent);
                if (aligned)
                    key = key.PadRight(indent);
                else
                {
                    yield return new Segment(key.TrimEnd());
                    yield return Segment.LineBreak;
                    key = new string(' ', indent);
                }
                for (int l = 0; l < lines.Count; l++)
                {
                    yield return new Segment(l == 0 ? key : new string(' ', indent));
                    yield return cell.Colour is { } colour ? new Segment(lines[l], new Style(colour)) : new Segment(lines[l]);
                    yield return Segment.LineBreak;
                }
            }
        }
    }

    private sealed class Renderable(TextTable table) : IRenderable
    {
        public Measurement Measure(RenderOptions options, int maxWidth) => new(maxWidth, maxWidth);

        public IEnumerable<Segment> Render(RenderOptions options, int maxWidth) => table.Render(maxWidth);
    }
}
