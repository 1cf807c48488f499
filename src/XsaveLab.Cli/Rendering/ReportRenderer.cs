using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Cli.Commands.Report;

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
            doc[s.JsonKey] = s.ToJson(rc);
        return doc;
    }

    public void RenderText(IAnsiConsole console, ReportContext rc)
    {
        foreach (var s in ReportSections.For(rc))
        {
            console.Write(new Rule(Markup.Escape(s.Title)).LeftJustified());
            s.RenderText(rc, console);
            console.WriteLine();
        }
        if (htmlWritten is not null)
            console.WriteLine($"HTML report written to {htmlWritten}");
    }
}
