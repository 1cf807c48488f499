namespace XsaveLab.Kernel.Variants;

/// <summary>One cited behaviour of a variant that its neighbour does not have.</summary>
/// <param name="Difference">The variant's behaviour and its source.</param>
/// <param name="NeighbourBehaviour">What the neighbour does for the same aspect, or null when it documents none.</param>
public sealed record VariantChange(VariantDifference Difference, string? NeighbourBehaviour);

/// <summary>What a variant changes from its neighbour (<see cref="KernelVariant.Neighbour"/>): its cited behaviours
/// the neighbour does not share, each with the neighbour's behaviour for the same aspect.</summary>
/// <param name="Variant">The variant described.</param>
/// <param name="Neighbour">The variant it is described against, or null when it names none.</param>
/// <param name="Relation">Why that is the neighbour ("the release before").</param>
/// <param name="Changes">Its cited behaviours the neighbour does not have, in the variant's order.</param>
public sealed record VariantChanges(KernelVariant Variant, KernelVariant? Neighbour, string Relation, IReadOnlyList<VariantChange> Changes)
{
    /// <summary>The variant is the landed series (<see cref="KernelVariants.Default"/>).</summary>
    public bool Landed => Variant.Name == KernelVariants.DefaultName;

    /// <summary>The changes of <paramref name="variant"/> from its neighbour. A neighbour that is not a built-in name
    /// (only possible for a variant built in code) leaves the variant without one: every cited behaviour is listed.</summary>
    public static VariantChanges Of(KernelVariant variant)
    {
        var neighbour = variant.Neighbour is { } n ? KernelVariants.Find(n.Name) : null;
        var theirs = neighbour?.Differences ?? [];
        var changes = variant.Differences
            .Where(d => !theirs.Contains(d))
            .Select(d => new VariantChange(d, theirs.FirstOrDefault(t => t.Aspect == d.Aspect)?.Behaviour))
            .ToArray();
        return new VariantChanges(variant, neighbour, neighbour is null ? "none" : variant.Neighbour!.Relation, changes);
    }

    /// <summary>The <c>variants</c> question: every built-in variant in display order, or only
    /// <paramref name="only"/> (a built-in or a variant file's design) when given.</summary>
    public static IReadOnlyList<VariantChanges> List(KernelVariant? only = null) =>
        [.. (only is null ? KernelVariants.All : [only]).Select(Of)];
}
