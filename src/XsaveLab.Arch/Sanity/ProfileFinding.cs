namespace XsaveLab.Arch.Sanity;

/// <summary>One result of <see cref="ProfileSanity.Check"/>. Every command shows a finding with the severity given
/// here (<c>layout</c> and <c>report</c> alike).</summary>
/// <param name="Severity">How much it matters.</param>
/// <param name="Code">Stable identifier (e.g. <c>COMPONENT_SIZE</c>) for scripts and tests.</param>
/// <param name="Message">One sentence for people.</param>
public sealed record ProfileFinding(FindingSeverity Severity, string Code, string Message)
{
    /// <summary>The finding as one line: <c>warning: COMPONENT_SIZE: component 9 (PKRU) reports 64 bytes …</c>.</summary>
    public override string ToString() => $"{Severity.Name()}: {Code}: {Message}";
}
