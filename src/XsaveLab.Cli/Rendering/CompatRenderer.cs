using Spectre.Console;
using XsaveLab.Kvm.Migration;
namespace XsaveLab.Cli.Rendering;

public sealed record CompatGeometryJson(int? Offset, int Size, bool Aligned64);

public sealed record CompatComponentJson(int Nr, string Name, CompatGeometryJson? From, CompatGeometryJson? To, bool Differs);

public sealed record CompatVerdictsJson(string KvmSnapshot, string NamedRegisters, string Process);

public sealed record CompatReasonsJson(IReadOnlyList<string> KvmSnapshot, IReadOnlyList<string> NamedRegisters, IReadOnlyList<string> Process);

public sealed record CompatMasksJson(string Xcr0, string Xss);

public sealed record CompatJson(string From, string To, CompatVerdictsJson Verdicts, CompatReasonsJson Reasons,
    IReadOnlyList<CompatComponentJson> Components, CompatMasksJson Common);

public sealed record CompatTemplateJson(IReadOnlyList<string> Hosts, string Xcr0, string Xss, IReadOnlyList<string> Dropped,
    string Cpuid, string VmmLine);

/// <summary><c>compat A B</c>: one line per path with its reasons, the component table and the common masks. Exit 1
/// when any path is incompatible.</summary>
public sealed class CompatRenderer : IRenderer<MigrationReport>
{
    private static string Word(MigrationVerdict v) => v.Compatible ? "compatible" : "incompatible";

    public object ToJson(MigrationReport r) => new CompatJson(
        r.From.Name, r.To.Name,
        new CompatVerdictsJson(Word(r.Verdict(MigrationPath.KvmSnapshot)), Word(r.Verdict(MigrationPath.NamedRegisters)), Word(r.Verdict(MigrationPath.Process))),
        new CompatReasonsJson(r.Verdict(MigrationPath.KvmSnapshot).Reasons, r.Verdict(MigrationPath.NamedRegisters).Reasons, r.Verdict(MigrationPath.Process).Reasons),
        [.. r.Components.Select(c => new CompatComponentJson(c.Number, c.Name, Geometry(c.From), Geometry(c.To), c.Differs))],
        new CompatMasksJson(Json.Hex(r.CommonXcr0), Json.Hex(r.CommonXss)));

    private static CompatGeometryJson? Geometry(ComponentGeometry? g) => g is { } x ? new(x.Offset, x.Size, x.Aligned64) : null;

    public void RenderText(IAnsiConsole console, MigrationReport r)
    {
        console.WriteLine($"from {r.From.Name} to {r.To.Name}");
        foreach (var v in r.Verdicts)
        {
            console.WriteLine($"{Key(v.Path),-15} {Word(v)}");
            foreach (var reason in v.Reasons)
                console.WriteLine($"  {reason}");
        }
        var t = new TextTable("nr", "component", $"offset on\n{r.From.Name}", "size", $"offset on\n{r.To.Name}", "size", "layout").AlignRight(0, 2, 3, 4, 5);
        foreach (var c in r.Components)
            t.AddRow(Numbers.Int(c.Number), c.Name, Offset(c.From), Size(c.From), Offset(c.To), Size(c.To),
                c.Differs ? "differs" : c.SameLayout ? "same" : "one side only");
        t.Write(console);
        console.WriteLine($"common guest features: XCR0 {Json.Hex(r.CommonXcr0)} ({XFeatureTable.Describe(r.CommonXcr0)}), IA32_XSS {Json.Hex(r.CommonXss)}");
    }

    private static string Offset(ComponentGeometry? g) => g is not { } x ? "-" : x.Offset?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private static string Size(ComponentGeometry? g) => g is { } x ? $"{x.Size}{(x.Aligned64 ? " a64" : "")}" : "-";

    internal static string Key(MigrationPath p) => p switch
    {
        MigrationPath.KvmSnapshot => "kvmSnapshot",
        MigrationPath.NamedRegisters => "namedRegisters",
        _ => "process",
    };

    public int ExitCode(MigrationReport r) => r.AllCompatible ? 0 : 1;
}

/// <summary><c>compat --common</c>: the template's masks, why components were left out, the CPUID and the VMM line.</summary>
public sealed class CompatTemplateRenderer : IRenderer<GuestTemplate>
{
    private static string CpuidText(GuestTemplate t) => CpuidTextWriter.Write(t.Cpuid);

    public object ToJson(GuestTemplate t) => new CompatTemplateJson(
        [.. t.Hosts.Select(h => h.Name)], Json.Hex(t.Xcr0), Json.Hex(t.Xss), t.Dropped, CpuidText(t), t.VmmLine);

    public void RenderText(IAnsiConsole console, GuestTemplate t)
    {
        console.WriteLine($"common guest template of {t.Hosts.Count} hosts: {string.Join(", ", t.Hosts.Select(h => h.Name))}");
        console.WriteLine($"XCR0 {Json.Hex(t.Xcr0)} ({XFeatureTable.Describe(t.Xcr0)}), IA32_XSS {Json.Hex(t.Xss)}");
        foreach (var d in t.Dropped)
            console.WriteLine($"  dropped {d}");
        console.WriteLine("");
        console.WriteLine("CPUID (cpuid -r):");
        foreach (var line in CpuidText(t).TrimEnd('\n').Split('\n'))
            console.WriteLine(line);
        console.WriteLine("");
        console.WriteLine("VMM script (kvm --vmm), after KVM_GET_SUPPORTED_CPUID:");
        console.WriteLine(t.VmmLine);
    }
}
