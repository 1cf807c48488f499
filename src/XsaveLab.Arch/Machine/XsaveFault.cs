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
    /// <summary>#PF: page fault (here a shadow-stack access to a page that is not a shadow-stack page, SDM Vol. 1
    /// chapter "Control-flow Enforcement Technology", shadow stacks).</summary>
    PageFault,
    /// <summary>#CP: control-protection exception (a RET whose shadow-stack return address differs, SDM Vol. 1
    /// chapter "Control-flow Enforcement Technology"; CALL/RET pseudo-code in Vol. 2).</summary>
    ControlProtection,
}

/// <summary>The outcome of a modelled instruction: no fault, or a fault with the rule that raised it and, for a
/// rule about the memory operand's contents, the byte of the area that breaks it. Faults are values; exceptions
/// are kept for misuse of the API.</summary>
/// <param name="Kind">The exception class, <see cref="FaultKind.None"/> when the instruction completed.</param>
/// <param name="Rule">The rule text (<see cref="XsaveRules"/>) that raised the fault.</param>
/// <param name="Offset">Byte offset in the memory operand of the first byte that breaks <paramref name="Rule"/>
/// (XSAVE header, MXCSR, a CET component); null when the rule is not about the operand's contents.</param>
public readonly record struct XsaveFault(FaultKind Kind, string Rule, int? Offset = null)
{
    public static readonly XsaveFault None = new(FaultKind.None, "");
    public bool IsFault => Kind != FaultKind.None;

    public static XsaveFault UD(string rule) => new(FaultKind.InvalidOpcode, rule);
    public static XsaveFault GP(string rule, int? offset = null) => new(FaultKind.GeneralProtection, rule, offset);
    public static XsaveFault NM(string rule, int? offset = null) => new(FaultKind.DeviceNotAvailable, rule, offset);

    /// <summary>The #GP of a broken image rule found by <see cref="XsaveDataRules"/>, or <see cref="None"/>.</summary>
    public static XsaveFault GP(ImageViolation? violation) => violation is { } v ? GP(v.Rule, v.Offset) : None;

    public override string ToString() => Kind switch
    {
        FaultKind.None => "ok",
        FaultKind.InvalidOpcode => $"#UD ({Rule})",
        FaultKind.GeneralProtection => $"#GP ({Rule})",
        FaultKind.PageFault => $"#PF ({Rule})",
        FaultKind.ControlProtection => $"#CP ({Rule})",
        _ => $"#NM ({Rule})",
    };
}
