using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record CpuJson(
    string Name, string Vendor, int Family, int Model, int Stepping, string Signature, string Brand, string Description,
    string Source, bool Xsave, bool Xsavec, bool Xsaves, bool Xfd, string Xcr0, string Xss,
    int? MaxStandardSize, int? MaxCompactedSize, bool Default);

/// <summary><c>cpus</c>: the built-in catalog, one row per CPU.</summary>
public sealed class CpusRenderer : IRenderer<IReadOnlyList<CatalogEntry>>
{
    public object ToJson(IReadOnlyList<CatalogEntry> entries) => entries.Select(Row).ToList();

    public void RenderText(IAnsiConsole console, IReadOnlyList<CatalogEntry> entries)
    {
        var t = new Table().Border(TableBorder.Rounded)
            .AddColumn("name").AddColumn("vendor").AddColumn("family/model").AddColumn("description")
            .AddColumn("XCR0").AddColumn("XSS")
            .AddColumn(new TableColumn("max standard").RightAligned())
            .AddColumn(new TableColumn("max compacted\n(XCR0|XSS)").RightAligned());
        foreach (var r in entries.Select(Row))
            t.AddRow(
                Markup.Escape(r.Default ? r.Name + " *" : r.Name), r.Vendor, $"{r.Family:X2}h/{r.Model:X2}h",
                Markup.Escape(r.Description),
                r.Xsave ? r.Xcr0 : "no XSAVE", r.Xsave ? r.Xss : "-",
                r.MaxStandardSize?.ToString() ?? "-", r.MaxCompactedSize?.ToString() ?? "-");
        console.Write(t);
        console.WriteLine($"* default when the host cannot be used. Components: xsavelab layout --cpu NAME; everything: xsavelab report --cpu NAME");
    }

    private static CpuJson Row(CatalogEntry e)
    {
        var p = e.Profile;
        int? std = p.HasXsave ? XStateGeometry.Size(p, p.SupportedXcr0, false) : null;
        int? cmp = p.HasXsaves ? XStateGeometry.Size(p, p.SupportedXcr0 | p.SupportedXss, true)
                 : p.HasXsavec ? XStateGeometry.Size(p, p.SupportedXcr0, true) : null;
        return new CpuJson(p.Name, Names.Vendor(p.Vendor), p.Family, p.Model, p.Stepping, Json.Hex((ulong)p.Signature), p.Brand,
            e.Description, e.Source, p.HasXsave, p.HasXsavec, p.HasXsaves, p.HasXfd,
            Json.Hex(p.SupportedXcr0), Json.Hex(p.SupportedXss), std, cmp,
            string.Equals(p.Name, CpuCatalog.DefaultName, StringComparison.OrdinalIgnoreCase));
    }
}
