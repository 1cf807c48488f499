using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

/// <summary><c>report</c>: the sections that apply to the CPU, one after another (<see cref="ReportSections.All"/>);
/// in JSON one object with the CPU, where it came from, the kernel variant and one key per section.</summary>
public sealed class ReportRenderer(string? htmlWritten) : IRenderer<ReportContext>
{
    public object ToJson(ReportContext rc)
    {
        var doc = new Dictionary<string, object?>
        {
            ["cpu"] = rc.Cpu.Name,
            ["origin"] = rc.Selection.Origin,
            ["kernelVariant"] = rc.Kernel.Name,
        };
        foreach (var s in ReportSections.For(rc))
            doc[s.JsonKey] = SectionUnavailable.Try(rc, s, () => s.ToJson(rc));
        return doc;
    }

    /// <summary>2 when a section could not run on this CPU (bad input, as for any other refused dump), else 0.</summary>
    public int ExitCode(ReportContext rc) => rc.Unavailable.Count > 0 ? 2 : 0;

    public void RenderText(IAnsiConsole console, ReportContext rc)
    {
        foreach (var s in ReportSections.For(rc))
        {
            console.Write(new Rule(Markup.Escape(s.Title)).LeftJustified());
            if (rc.ContentOf(s) is IReadOnlyList<ReportBlock> blocks)
                ReportBlocks.WriteText(blocks, console);
            else if (rc.ContentOf(s) is SectionUnavailable u)
                console.WriteLine($"cannot run on this CPU: {SafeText.Line(u.Unavailable)}");
            console.WriteLine();
        }
        if (htmlWritten is not null)
            console.WriteLine($"HTML report written to {htmlWritten}");
    }
}
