namespace XsaveLab.Cli.Commands.Report;

public sealed record ProfileJson(
    string Name, string Origin, string Source, string Vendor, int Family, int Model, int Stepping, string Signature,
    string Brand, IReadOnlyDictionary<string, bool> Features, string Xcr0, string Xss, ProfileCpuidSizesJson? CpuidSizes);

/// <summary>Sizes as the CPU itself reported them (0xD.0 EBX/ECX, 0xD.1 EBX).</summary>
public sealed record ProfileCpuidSizesJson(uint CurrentXcr0Standard, uint MaxStandard, uint CurrentXcr0XssCompacted);

/// <summary>Who the CPU is and what XSAVE features it has.</summary>
public sealed class ProfileSection : IReportSection
{
    public string Title => "CPU";
    public string JsonKey => "profile";

    public IReadOnlyList<ReportBlock> Content(ReportContext ctx)
    {
        var j = (ProfileJson)ToJson(ctx);
        var rows = new List<(string Key, string Value)>
        {
            ("name", j.Name),
            ("selected", j.Origin),
        };
        if (j.Brand.Length > 0)
            rows.Add(("brand", j.Brand));
        rows.Add(("source", j.Source));
        rows.Add(("vendor", $"{j.Vendor}, family 0x{j.Family:x} model 0x{j.Model:x} stepping {j.Stepping} (CPUID.1.EAX {j.Signature})"));
        rows.Add(("features", string.Join("  ", j.Features.Select(f => $"{f.Key} {(f.Value ? "yes" : "no")}"))));
        if (ctx.Cpu.HasXsave)
        {
            rows.Add(("XCR0 supported", $"{j.Xcr0} ({XFeatureTable.Describe(ctx.Cpu.SupportedXcr0)})"));
            rows.Add(("XSS supported", $"{j.Xss} ({XFeatureTable.Describe(ctx.Cpu.SupportedXss)})"));
        }
        if (j.CpuidSizes is { } s)
        {
            rows.Add(("CPUID sizes", $"0xd.0 ECX {Numbers.Int(s.MaxStandard)} (standard, all supported XCR0)"));
            rows.Add(("", $"0xd.0 EBX {Numbers.Int(s.CurrentXcr0Standard)} (standard, XCR0 in force when the CPUID was read)"));
            if (ctx.Cpu.HasXsaves)
                rows.Add(("", $"0xd.1 EBX {Numbers.Int(s.CurrentXcr0XssCompacted)} (compacted, XCR0|XSS in force when the CPUID was read)"));
        }
        return [new KeyValueBlock(rows)];
    }

    public object ToJson(ReportContext ctx)
    {
        var p = ctx.Cpu;
        var features = new Dictionary<string, bool>
        {
            ["xsave"] = p.HasXsave,
            ["xsaveopt"] = p.HasXsaveopt,
            ["xsavec"] = p.HasXsavec,
            ["xgetbv1"] = p.HasXgetbv1,
            ["xsaves"] = p.HasXsaves,
            ["xfd"] = p.HasXfd,
        };
        ProfileCpuidSizesJson? sizes = p.HasXsave
            ? new(p.Leaf(0xD, 0).Ebx, p.Leaf(0xD, 0).Ecx, p.Leaf(0xD, 1).Ebx)
            : null;
        return new ProfileJson(p.Name, ctx.Selection.Origin, p.Source, Names.Vendor(p.Vendor), p.Family, p.Model, p.Stepping,
            $"0x{p.Signature:x8}", p.Brand, features, Json.Hex(p.SupportedXcr0), Json.Hex(p.SupportedXss), sizes);
    }
}
