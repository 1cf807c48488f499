using Spectre.Console;
using Spectre.Console.Rendering;
namespace XsaveLab.Cli.Cli;

/// <summary>A console that escapes control characters in every piece of text before the terminal sees it
/// (<see cref="SafeText.Escape"/>): a brand string or file name with ESC or BEL cannot move the cursor, change the
/// title or ring the bell. Spectre's own colour codes are added after this, when the segments are written, so they
/// are untouched.</summary>
internal sealed class SafeConsole(IAnsiConsole inner) : IAnsiConsole
{
    public Profile Profile => inner.Profile;
    public IAnsiConsoleCursor Cursor => inner.Cursor;
    public IAnsiConsoleInput Input => inner.Input;
    public IExclusivityMode ExclusivityMode => inner.ExclusivityMode;
    public RenderPipeline Pipeline => inner.Pipeline;

    public void Clear(bool home) => inner.Clear(home);

    public void Write(IRenderable renderable) => inner.Write(new SafeRenderable(renderable));

    private sealed class SafeRenderable(IRenderable inner) : IRenderable
    {
        public Measurement Measure(RenderOptions options, int maxWidth) => inner.Measure(options, maxWidth);

        public IEnumerable<Segment> Render(RenderOptions options, int maxWidth) =>
            inner.Render(options, maxWidth).Select(s => s.IsControlCode || s.IsLineBreak || !NeedsEscape(s.Text)
                ? s
                : new Segment(SafeText.Escape(s.Text), s.Style));

        private static bool NeedsEscape(string text) => text.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029' or '\ufeff');
    }
}
