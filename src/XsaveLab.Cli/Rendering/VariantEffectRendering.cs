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
        if (effect is null)
            return;
        if (effect.Unchanged)
        {
            Wrapped(console, $"Kernel {effect.Variant} changes nothing in {where} compared with the landed {effect.Landed}.");
            return;
        }
        Wrapped(console, $"What kernel {effect.Variant} changes in {where} compared with the landed {effect.Landed}:");
        foreach (var o in effect.Observed)
            Wrapped(console, $"  {o.What}: {Value(o, o.Chosen)} ({effect.Landed}: {Value(o, o.Landed)})");
        if (effect.Differences.Count == 0)
        {
            Wrapped(console, $"  No cited difference of {effect.Variant} is documented to change these results.");
            return;
        }
        Wrapped(console, "Cited differences behind it:");
        foreach (var d in effect.Differences)
            Wrapped(console, $"  {d.Aspect}: {d.Behaviour} [{d.Source}]");
    }

    private static string Value(ObservedChange o, string v) =>
        o.IsBytes && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? Numbers.Bytes(n) : v;

    /// <summary>Writes <paramref name="text"/> wrapped to the console's width; continuation lines keep its indentation.</summary>
    public static void Wrapped(IAnsiConsole console, string text)
    {
        foreach (var line in WordWrap.Lines(text, Math.Max(CliContext.MinColumns, console.Profile.Width)))
            console.Write(new RawLine(line));
    }
}
