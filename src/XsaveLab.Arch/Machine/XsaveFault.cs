namespace XsaveLab.Arch.Machine;

/// <summary>Exception class an instruction raised (SDM Vol.3A §6.15).</summary>
public enum FaultKind : byte
{
    None,
    /// <summary>#UD: invalid opcode (no XSAVE, CR4.OSXSAVE clear, missing sub-feature).</summary>
    InvalidOpcode,
    /// <summary>#GP(0).</summary>
    GeneralProtection,
    /// <summary>#NM: device not available (XFD-armed component touched).</summary>
    DeviceNotAvailable,
}

/// <summary>The outcome of a modelled instruction: no fault, or a fault with the rule that raised it.
/// Faults are values; exceptions are kept for misuse of the API.</summary>
public readonly record struct XsaveFault(FaultKind Kind, string Rule)
{
    public static readonly XsaveFault None = new(FaultKind.None, "");
    public bool IsFault => Kind != FaultKind.None;

    public static XsaveFault UD(string rule) => new(FaultKind.InvalidOpcode, rule);
    public static XsaveFault GP(string rule) => new(FaultKind.GeneralProtection, rule);
    public static XsaveFault NM(string rule) => new(FaultKind.DeviceNotAvailable, rule);

    public override string ToString() => Kind switch
    {
        FaultKind.None => "ok",
        FaultKind.InvalidOpcode => $"#UD ({Rule})",
        FaultKind.GeneralProtection => $"#GP ({Rule})",
        _ => $"#NM ({Rule})",
    };
}
