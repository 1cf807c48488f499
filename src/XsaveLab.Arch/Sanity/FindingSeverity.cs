namespace XsaveLab.Arch.Sanity;

/// <summary>How much a finding matters.</summary>
public enum FindingSeverity : byte
{
    /// <summary>A fact worth knowing (e.g. the dump was taken with fewer features enabled).</summary>
    Info,

    /// <summary>The CPU reports something unusual that software must tolerate (e.g. Zen 2's 64-byte PKRU).</summary>
    Warning,

    /// <summary>The reported values break an architectural rule; layouts derived from them are suspect.</summary>
    Error,
}

/// <summary>The one spelling of a severity in text and JSON: <c>info</c>, <c>warning</c>, <c>error</c>.</summary>
public static class FindingSeverityNames
{
    public static string Name(this FindingSeverity severity) => severity.ToString().ToLowerInvariant();
}
