namespace XsaveLab.Kernel.Variants;

/// <summary>One result that differs between a run under the chosen variant and under the landed one.</summary>
/// <param name="Kind">Which part of the run it belongs to.</param>
/// <param name="What">The result ("IA32_XSS", "boot log line 12", "line 3 arch_prctl GET_XCOMP_GUEST_PERM").</param>
/// <param name="Chosen">Its value under the chosen variant ("absent" when only the landed run has it).</param>
/// <param name="Landed">Its value under the landed variant ("absent" when only the chosen run has it).</param>
/// <param name="IsBytes">Both values are byte counts in invariant digits (renderers add their number style).</param>
public sealed record ObservedChange(VariantEffect Kind, string What, string Chosen, string Landed, bool IsBytes = false);

/// <summary>What a variant other than the landed one changes on one CPU: the results that differ between the two
/// model runs, and the variant's cited differences from the landed series whose effect (<see cref="VariantDifference.Shows"/>)
/// is among them.</summary>
/// <param name="Variant">The chosen variant's name.</param>
/// <param name="Landed">The landed variant's name (<see cref="KernelVariants.DefaultName"/>).</param>
/// <param name="Observed">The results that differ, in run order.</param>
/// <param name="Differences">The cited differences whose effect shows in <paramref name="Observed"/>.</param>
public sealed record VariantEffectOnCpu(string Variant, string Landed, IReadOnlyList<ObservedChange> Observed, IReadOnlyList<VariantDifference> Differences)
{
    /// <summary>Nothing in this CPU's results changes.</summary>
    public bool Unchanged => Observed.Count == 0;

    /// <summary>The effect of <paramref name="variant"/> given the results that differ from the landed run: its
    /// cited differences from the landed series (those <see cref="KernelVariants.Default"/> does not share) that
    /// can change one of the differing parts. Null for the landed variant itself.</summary>
    public static VariantEffectOnCpu? From(KernelVariant variant, IReadOnlyList<ObservedChange> observed)
    {
        var landed = KernelVariants.Default;
        if (variant.Name == landed.Name)
            return null;
        var kinds = observed.Aggregate(VariantEffect.None, (k, o) => k | o.Kind);
        var cited = variant.Differences.Where(d => !landed.Differences.Contains(d) && (d.Shows & kinds) != 0).ToArray();
        return new VariantEffectOnCpu(variant.Name, landed.Name, observed, cited);
    }

    /// <summary>The effect of a variant on several kinds of run at once (<c>report</c>: boot and a VMM start).</summary>
    public static VariantEffectOnCpu? Combine(KernelVariant variant, params IEnumerable<VariantEffectOnCpu?> parts) =>
        From(variant, [.. parts.OfType<VariantEffectOnCpu>().SelectMany(p => p.Observed)]);

    /// <summary>Adds an <see cref="ObservedChange"/> to <paramref name="into"/> when the two texts differ.</summary>
    public static void Compare(List<ObservedChange> into, VariantEffect kind, string what, string chosen, string landed)
    {
        if (chosen != landed)
            into.Add(new ObservedChange(kind, what, chosen, landed));
    }

    /// <summary>Adds an <see cref="ObservedChange"/> of two masks, in lower-case hex, when they differ.</summary>
    public static void CompareMask(List<ObservedChange> into, VariantEffect kind, string what, ulong chosen, ulong landed) =>
        Compare(into, kind, what, $"0x{chosen:x}", $"0x{landed:x}");

    /// <summary>Adds an <see cref="ObservedChange"/> of two byte counts when they differ.</summary>
    public static void CompareBytes(List<ObservedChange> into, VariantEffect kind, string what, long chosen, long landed)
    {
        if (chosen != landed)
            into.Add(new ObservedChange(kind, what, chosen.ToString(CultureInfo.InvariantCulture), landed.ToString(CultureInfo.InvariantCulture), IsBytes: true));
    }

    /// <summary>The lines of two logs that differ: line by line when both have as many lines, else the lines only
    /// one of them has.</summary>
    public static void CompareLines(List<ObservedChange> into, VariantEffect kind, string what, IReadOnlyList<string> chosen, IReadOnlyList<string> landed)
    {
        if (chosen.Count == landed.Count)
        {
            for (int i = 0; i < chosen.Count; i++)
                if (chosen[i] != landed[i])
                    into.Add(new ObservedChange(kind, $"{what} {i + 1}", chosen[i], landed[i]));
            return;
        }
        foreach (var l in chosen.Except(landed))
            into.Add(new ObservedChange(kind, what, l, "absent"));
        foreach (var l in landed.Except(chosen))
            into.Add(new ObservedChange(kind, what, "absent", l));
    }
}
