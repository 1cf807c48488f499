using Spectre.Console;
namespace XsaveLab.Cli.Commands.Report;

/// <summary>The layout for every supported component (same as <c>layout</c> without masks).</summary>
public sealed class LayoutSection : IReportSection
{
    public string Title => "XSAVE layout (all supported components)";
    public string JsonKey => "layout";

    public void RenderText(ReportContext ctx, IAnsiConsole console) => LayoutRendering.Render(console, ctx.Layout);

    public object ToJson(ReportContext ctx) => LayoutRendering.ToJson(ctx.Layout);
}
