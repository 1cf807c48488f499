using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record VariantChangeJson(string Aspect, string Behaviour, string Source, string? NeighbourBehaviour);

/// <summary>A variant in <c>variants --format json</c>; <c>Kvm</c> is the KVM release it runs with unless <c>--kvm</c> names another (<see cref="KvmReleases.For"/>).</summary>
public sealed record VariantJson(string Name, string Summary, bool Landed, string? Neighbour, string Relation, IReadOnlyList<VariantChangeJson> Changes, string Kvm);

/// <summary><c>variants --format json</c>: the landed variant's name and every variant with its cited changes.</summary>
public sealed record VariantsJson(string Landed, IReadOnlyList<VariantJson> Variants);

/// <summary><c>variants</c>: each kernel variant, its neighbour and what it changes from it, with the commit or mail
/// each change comes from.</summary>
public sealed class VariantsRenderer : IRenderer<IReadOnlyList<VariantChanges>>
{
    public object ToJson(IReadOnlyList<VariantChanges> list) => new VariantsJson(KernelVariants.DefaultName, [.. list.Select(v => new VariantJson(
        v.Variant.Name, v.Variant.Summary, v.Landed, v.Neighbour?.Name, v.Relation,
        [.. v.Changes.Select(c => new VariantChangeJson(c.Difference.Aspect, c.Difference.Behaviour, c.Difference.Source, c.NeighbourBehaviour))],
        KvmReleases.For(v.Variant).Name()))]);

    public void RenderText(IAnsiConsole console, IReadOnlyList<VariantChanges> list)
    {
        foreach (var v in list)
        {
            string vs = (v.Neighbour is null ? "no neighbour" : $"compared with {v.Neighbour.Name}, {v.Relation}") + $"; KVM {KvmReleases.For(v.Variant).Name()}";
            console.WriteWrapped($"{v.Variant.Name}{(v.Landed ? " (landed, the default)" : "")}: {v.Variant.Summary} ({vs})");
            var t = new TextTable("aspect", v.Variant.Name, v.Neighbour?.Name ?? "neighbour", "source");
            foreach (var c in v.Changes)
                t.AddRow(c.Difference.Aspect, c.Difference.Behaviour, c.NeighbourBehaviour ?? "-", c.Difference.Source);
            if (v.Changes.Count == 0)
                console.WriteLine("  no cited change");
            else
                t.Write(console);
            console.WriteLine();
        }
        console.WriteLine($"--kernel NAME selects one for boot, kvm, report, explore and experiment cet-s; --kernel FILE a design of your own (docs/kernel-variant-files.md). kvm and explore run a variant with the KVM release named after it unless --kvm names another.");
    }
}
