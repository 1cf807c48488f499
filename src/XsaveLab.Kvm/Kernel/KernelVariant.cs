namespace XsaveLab.Kvm.Kernel;

/// <summary>The host kernel's FPU-core design the KVM model runs on (issue "Linux FPU core model", variants as data).</summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>6.15</c>: CET_KERNEL in XFEATURE_MASK_SUPERVISOR_UNSUPPORTED, guest fpstate from kernel defaults
/// (1937e18cc3cf), <c>fpu_guest.perm</c>, <c>__state_perm</c> loses non-user bits on a request.</item>
/// <item><c>6.16</c>: d8414603b29f (preserve non-user bits) and 32d5fa804dc9 (drop @perm); still no CET_KERNEL.</item>
/// <item><c>6.17</c>: the landed series: GUEST_SUPERVISOR = CET_KERNEL, guest defaults (7bc4ed75f2d6 … 8b05b3c98816).</item>
/// <item><c>case3</c>: the alternative measured in the series' cover letter: CET-S space in every task.</item>
/// <item><c>deferred</c>: the review's alternative: guest fpstates start from host defaults and CET-S space
/// is added by reallocation when the guest is given shadow stacks.</item>
/// </list>
/// </remarks>
public sealed record KernelVariant(string Name, bool CetKernelSupported, bool GuestDefaultsDiffer, bool CetInEveryTask,
    bool CetGrownOnDemand, bool PermLosesSupervisorBits, bool GuestHasPermField)
{
    public static readonly KernelVariant V615 = new("6.15", false, false, false, false, true, true);
    public static readonly KernelVariant V616 = new("6.16", false, false, false, false, false, false);
    public static readonly KernelVariant V617 = new("6.17", true, true, false, false, false, false);
    public static readonly KernelVariant Case3 = new("case3", true, false, true, false, false, false);
    public static readonly KernelVariant Deferred = new("deferred", true, false, false, true, false, false);

    public static IReadOnlyList<KernelVariant> All { get; } = [V615, V616, V617, Case3, Deferred];

    public static KernelVariant Default => V617;

    public static bool TryParse(string? name, out KernelVariant variant)
    {
        variant = All.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase))!;
        return variant is not null;
    }

    public static KernelVariant Parse(string name) => TryParse(name, out var v) ? v
        : throw new ArgumentException($"unknown kernel variant '{name}' (expected one of {string.Join(", ", All.Select(a => a.Name))})", nameof(name));

    public override string ToString() => Name;
}
