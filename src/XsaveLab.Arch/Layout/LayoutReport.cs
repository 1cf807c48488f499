namespace XsaveLab.Arch.Layout;

/// <summary>The <c>layout</c> question in one call: the layout of a CPU for the given masks, with the CPU's own
/// oddities (findings of <see cref="ProfileSanity"/> of severity warning or error, e.g. Zen 2's 64-byte PKRU), which matter to anyone reading
/// its layout.</summary>
public sealed record LayoutReport(CpuProfile Cpu, LayoutView View, IReadOnlyList<ProfileFinding> CpuFindings)
{
    public static LayoutReport Create(CpuProfile cpu, ulong? xcr0 = null, ulong? xss = null) =>
        new(cpu, LayoutView.Create(cpu, xcr0, xss),
            [.. ProfileSanity.Check(cpu).Where(f => f.Severity >= FindingSeverity.Warning)]);
}
