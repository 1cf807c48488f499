namespace XsaveLab.Arch.Sanity;

/// <summary>One result of <see cref="ProfileSanity.Check"/>.</summary>
/// <param name="Severity">How much it matters.</param>
/// <param name="Code">Stable identifier (e.g. <c>COMPONENT_SIZE</c>) for scripts and tests.</param>
/// <param name="Message">One sentence for people.</param>
public sealed record ProfileFinding(FindingSeverity Severity, string Code, string Message)
{
    public override string ToString() => $"{Severity.ToString().ToLowerInvariant()} {Code}: {Message}";
}
