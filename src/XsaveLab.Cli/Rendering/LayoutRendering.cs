using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record LayoutComponentJson(
    int Nr, string Name, string KernelName, int Size, int? StandardOffset, int? CompactedOffset, bool Supervisor, bool Aligned64, bool Xfd);

public sealed record LayoutSizesJson(int? Standard, int? Compacted, int? CompactedWithSupervisor);

public sealed record LayoutJson(
    string Cpu, string Source, string Xcr0, string Xss, bool Xsave, string CompactedMask,
    IReadOnlyList<LayoutComponentJson> Components, LayoutSizesJson Sizes, IReadOnlyList<string> Warnings);

/// <summary>Text and JSON forms of a <see cref="LayoutView"/>, shared by <c>layout</c> and <c>report</c>.</summary>
public static class LayoutRendering
{
    public static LayoutJson ToJson(LayoutView v) => new(
        v.Cpu.Name, v.Cpu.Source, Json.Hex(v.Xcr0), Json.Hex(v.Xss), v.HasXsave, Json.Hex(v.CompactedMask),
        [.. v.Components.Select(c => new LayoutComponentJson(c.Number, c.Name, XFeatureTable.Get(c.Number, c.Supervisor).KernelName,
            c.Size, c.StandardOffset, c.CompactedOffset, c.Supervisor, c.Aligned64, c.Xfd))],
        new LayoutSizesJson(v.StandardSize, v.CompactedSize, v.CompactedWithSupervisorSize),
        v.Warnings);

    public static void Render(IAnsiConsole console, LayoutView v)
    {
        if (!v.HasXsave)
        {
            foreach (var w in v.Warnings)
                console.WriteLine(w);
            return;
        }
        console.WriteLine($"XCR0 0x{v.Xcr0:x} ({XFeatureTable.Describe(v.Xcr0)})");
        console.WriteLine($"XSS  0x{v.Xss:x} ({XFeatureTable.Describe(v.Xss)})");
        string cmpTitle = v.CompactedMask == 0 ? "compacted" : $"compacted\n(0x{v.CompactedMask:x})";
        var t = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("nr").RightAligned())
            .AddColumn("name")
            .AddColumn("kind")
            .AddColumn(new TableColumn("size").RightAligned())
            .AddColumn(new TableColumn("standard\noffset").RightAligned())
            .AddColumn(new TableColumn(Markup.Escape(cmpTitle)).RightAligned())
            .AddColumn("align64")
            .AddColumn("xfd");
        foreach (var c in v.Components)
            t.AddRow(
                c.Number.ToString(),
                Markup.Escape(c.Name),
                c.Supervisor ? "supervisor" : "user",
                c.Size.ToString(),
                c.StandardOffset?.ToString() ?? "-",
                c.CompactedOffset?.ToString() ?? "-",
                c.Aligned64 ? "yes" : "",
                c.Xfd ? "yes" : "");
        console.Write(t);
        console.WriteLine($"standard size, XCR0 (XSAVE, XSAVEOPT):  {Size(v.StandardSize, "")}");
        console.WriteLine($"compacted size, XCR0 (XSAVEC):          {Size(v.CompactedSize, "no XSAVEC")}");
        console.WriteLine($"compacted size, XCR0|XSS (XSAVES):      {Size(v.CompactedWithSupervisorSize, "no XSAVES")}");
        foreach (var w in v.Warnings)
            console.WriteLine($"warning: {w}");
    }

    private static string Size(int? size, string missing) => size is int s ? $"{s} bytes (0x{s:x})" : $"- ({missing})";
}
