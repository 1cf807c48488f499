namespace XsaveLab.Cli.Commands.Report;

/// <summary>The layout for every supported component (same as <c>layout</c> without masks) and, on the page, the
/// buffers drawn to scale: the standard format for XCR0 and the compacted one (XCR0|XSS with XSAVES), so every
/// component appears in at least one map.</summary>
public sealed class LayoutSection : IReportSection
{
    public string Title => "XSAVE layout (all supported components)";
    public string JsonKey => "layout";

    public IReadOnlyList<ReportBlock> Content(ReportContext ctx)
    {
        var v = ctx.Layout;
        var blocks = new List<ReportBlock>(LayoutRendering.Blocks(v));
        if (v.StandardSize is int std)
            blocks.Add(new ByteMapBlock($"standard format, XCR0 {Json.Hex(v.Xcr0)} ({Numbers.Bytes(std)})", FpstateMap.Create(v.Cpu, v.Xcr0, false, std), "standard"));
        if ((v.CompactedWithSupervisorSize ?? v.CompactedSize) is int cmp)
            blocks.Add(new ByteMapBlock($"compacted format, {Json.Hex(v.CompactedMask)} ({Numbers.Bytes(cmp)})", FpstateMap.Create(v.Cpu, v.CompactedMask, true, cmp), "compacted"));
        return blocks;
    }

    public object ToJson(ReportContext ctx) => LayoutRendering.ToJson(ctx.Layout);
}
