namespace XsaveLab.Kernel.Variants;

/// <summary>The variant another is described against (docs/linux-fpu-core.md, "Neighbours"): a release's previous
/// modelled release, a design's landed series, a variant file's parent.</summary>
/// <param name="Name">The neighbour's name (a built-in variant).</param>
/// <param name="Relation">Why it is the neighbour, in a few words ("the release before").</param>
public sealed record VariantNeighbour(string Name, string Relation);
