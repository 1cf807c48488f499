using Spectre.Console;
using Spectre.Console.Rendering;
namespace XsaveLab.Cli.Rendering;

/// <summary>A line written whole, however narrow the console: the kernel's own log lines, which must stay
/// byte-for-byte comparable with <c>dmesg</c>.</summary>
public sealed class RawLine(string text) : IRenderable
{
    public Measurement Measure(RenderOptions options, int maxWidth) => new(text.Length, text.Length);

    public IEnumerable<Segment> Render(RenderOptions options, int maxWidth) => [new Segment(text), Segment.LineBreak];
}

public static class RawLineExtensions
{
    /// <summary>Writes <paramref name="line"/> unwrapped (<see cref="RawLine"/>).</summary>
    public static void WriteUnwrapped(this IAnsiConsole console, string line) => console.Write(new RawLine(line));

    /// <summary>Writes <paramref name="text"/> wrapped to the console's width at word boundaries (<see cref="WordWrap"/>,
    /// never inside a number); continuation lines keep the text's indentation.</summary>
    public static void WriteWrapped(this IAnsiConsole console, string text)
    {
        foreach (var line in WordWrap.Lines(text, Math.Max(CliContext.MinColumns, console.Profile.Width)))
            console.Write(new RawLine(line));
    }
}
