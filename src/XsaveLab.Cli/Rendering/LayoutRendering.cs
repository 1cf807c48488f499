using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record LayoutComponentJson(
    int Nr, string Name, string KernelName, int Size, int? StandardOffset, int? CompactedOffset, bool Supervisor, bool Aligned64, bool Xfd);

public sealed record LayoutSizesJson(int? Standard, int? Compacted, int? CompactedWithSupervisor);

/// <summary>The layout in JSON. <c>Findings</c>: the CPU's own sanity findings, each with its one severity
/// (<c>layout</c> only; the report has them as a section of their own).</summary>
public sealed record LayoutJson(
    string Cpu, string Source, string Xcr0, string Xss, bool Xsave, string CompactedMask,
    IReadOnlyList<LayoutComponentJson> Components, LayoutSizesJson Sizes, IReadOnlyList<string> Warnings,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ProfileFinding>? Findings = null);

/// <summary>Text and JSON forms of a <see cref="LayoutView"/>, shared by <c>layout</c> and <c>report</c>.</summary>
public static class LayoutRendering
{
    public static LayoutJson ToJson(LayoutView v) => new(
        v.Cpu.Name, v.Cpu.Source, Json.Hex(v.Xcr0), Json.Hex(v.Xss), v.HasXsave, Json.Hex(v.CompactedMask),
        [.. v.Components.Select(c => new LayoutComponentJson(c.Number, c.Name, XFeatureTable.Get(c.Number, c.Supervisor).KernelName,
            c.Size, c.StandardOffset, c.CompactedOffset, c.Supervisor, c.Aligned64, c.Xfd))],
        new LayoutSizesJson(v.StandardSize, v.CompactedSize, v.CompactedWithSupervisorSize),
        v.Warnings);

    public static void Render(IAnsiConsole console, LayoutView v) => ReportBlocks.WriteText(Blocks(v), console);

    /// <summary>The masks, the component table, the three sizes and the warnings (or only the warnings without XSAVE).</summary>
    public static IReadOnlyList<ReportBlock> Blocks(LayoutView v)
    {
        if (!v.HasXsave)
            return [.. v.Warnings.Select(w => new TextBlock(w))];
        var blocks = new List<ReportBlock>
        {
            new TextBlock($"XCR0 {Json.Hex(v.Xcr0)} ({XFeatureTable.Describe(v.Xcr0)})"),
            new TextBlock($"XSS  {Json.Hex(v.Xss)} ({XFeatureTable.Describe(v.Xss)})"),
        };
        string cmpTitle = v.CompactedMask == 0 ? "compacted" : $"compacted\n({Json.Hex(v.CompactedMask)})";
        var t = new TextTable("nr", "name", "kind", "size", "standard\noffset", cmpTitle, "align64", "xfd").AlignRight(0, 3, 4, 5);
        foreach (var c in v.Components)
            t.AddRow(
                Numbers.Int(c.Number),
                c.Name,
                c.Supervisor ? "supervisor" : "user",
                Numbers.Int(c.Size),
                c.StandardOffset is int so ? Numbers.Int(so) : "-",
                c.CompactedOffset is int co ? Numbers.Int(co) : "-",
                c.Aligned64 ? "yes" : "",
                c.Xfd ? "yes" : "");
        blocks.Add(new TableBlock(t));
        blocks.Add(new TextBlock($"standard size, XCR0 (XSAVE, XSAVEOPT):  {Size(v.StandardSize, "")}"));
        blocks.Add(new TextBlock($"compacted size, XCR0 (XSAVEC):          {Size(v.CompactedSize, "no XSAVEC")}"));
        blocks.Add(new TextBlock($"compacted size, XCR0|XSS (XSAVES):      {Size(v.CompactedWithSupervisorSize, "no XSAVES")}"));
        blocks.AddRange(v.Warnings.Select(w => new TextBlock($"warning: {w}")));
        return blocks;
    }

    private static string Size(int? size, string missing) => size is int s ? $"{Numbers.Bytes(s)}, {Json.Hex((ulong)s)}" : $"- ({missing})";
}
