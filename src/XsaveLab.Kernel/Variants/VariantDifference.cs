namespace XsaveLab.Kernel.Variants;

/// <summary>One documented behaviour of a variant and the commit or mail that decides it.</summary>
/// <param name="Aspect">What differs (e.g. "guest_perm initialisation").</param>
/// <param name="Behaviour">What this variant does.</param>
/// <param name="Source">Commit id (12 hex digits) or mailing-list reference.</param>
/// <param name="Shows">Where a model run can show the behaviour (<see cref="VariantEffectOnCpu"/>).</param>
public sealed record VariantDifference(string Aspect, string Behaviour, string Source, VariantEffect Shows = VariantEffect.None);
