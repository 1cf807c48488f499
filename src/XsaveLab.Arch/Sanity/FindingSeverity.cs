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
