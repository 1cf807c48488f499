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
        var t = new TextTable("name", "vendor", "family/\nmodel", "description", "XCR0", "XSS", "max\nstandard", "max\ncompacted\n(XCR0|XSS)")
            .AlignRight(6, 7);
        foreach (var r in entries.Select(Row))
            t.AddRow(
                r.Default ? r.Name + " *" : r.Name, r.Vendor, $"{Json.Hex((ulong)r.Family)}/{Json.Hex((ulong)r.Model)}",
                r.Description,
                r.Xsave ? r.Xcr0 : "no XSAVE", r.Xsave ? r.Xss : "-",
                r.MaxStandardSize is int s ? Numbers.Int(s) : "-", r.MaxCompactedSize is int c ? Numbers.Int(c) : "-");
        t.Write(console);
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
