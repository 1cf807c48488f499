using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record ObservedChangeJson(string Kind, string What, string Chosen, string Landed);

public sealed record VariantDifferenceJson(string Aspect, string Behaviour, string Source)
{
    public static VariantDifferenceJson From(VariantDifference d) => new(d.Aspect, d.Behaviour, d.Source);
}

/// <summary>What a variant other than the landed one changes on this CPU (<see cref="VariantEffectOnCpu"/>):
/// <c>unchanged</c> when the two runs agree, else the differing results and the cited differences behind them.</summary>
public sealed record VariantEffectJson(string Variant, string Landed, bool Unchanged, IReadOnlyList<ObservedChangeJson> Observed,
    IReadOnlyList<VariantDifferenceJson> Differences)
{
    public static VariantEffectJson? From(VariantEffectOnCpu? e) => e is null ? null : new(
        e.Variant, e.Landed, e.Unchanged,
        [.. e.Observed.Select(o => new ObservedChangeJson(o.Kind.ToString(), o.What, o.Chosen, o.Landed))],
        [.. e.Differences.Select(VariantDifferenceJson.From)]);
}

/// <summary>The text form of a <see cref="VariantEffectOnCpu"/>, shared by <c>boot</c>, <c>kvm</c> and <c>report</c>:
/// one line when nothing changes, else each differing result and the cited differences, wrapped at word boundaries.</summary>
public static class VariantEffectRendering
{
    public static void Write(IAnsiConsole console, VariantEffectOnCpu? effect, string where)
    {
        foreach (var line in Lines(effect, where))
            console.WriteWrapped(line);
    }

    /// <summary>The same lines as report blocks (wrapped in text, indented lines indented on the page).</summary>
    public static IEnumerable<ReportBlock> Blocks(VariantEffectOnCpu? effect, string where) =>
        Lines(effect, where).Select(l => new TextBlock(l, Wrap: true));

    /// <summary>The lines, unwrapped: none for the landed kernel.</summary>
    public static IReadOnlyList<string> Lines(VariantEffectOnCpu? effect, string where)
    {
        if (effect is null)
            return [];
        if (effect.Unchanged)
            return [$"Kernel {effect.Variant} changes nothing in {where} compared with the landed {effect.Landed}."];
        var lines = new List<string> { $"What kernel {effect.Variant} changes in {where} compared with the landed {effect.Landed}:" };
        foreach (var o in effect.Observed)
            lines.Add($"  {o.What}: {Value(o, o.Chosen)} ({effect.Landed}: {Value(o, o.Landed)})");
        if (effect.Differences.Count == 0)
        {
            lines.Add($"  No cited difference of {effect.Variant} is documented to change these results.");
            return lines;
        }
        lines.Add("Cited differences behind it:");
        foreach (var d in effect.Differences)
            lines.Add($"  {d.Aspect}: {d.Behaviour} [{d.Source}]");
        return lines;
    }

    private static string Value(ObservedChange o, string v) =>
        o.IsBytes && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? Numbers.Bytes(n) : v;
}
