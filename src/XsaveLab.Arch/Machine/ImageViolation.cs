namespace XsaveLab.Arch.Machine;

/// <summary>A rule of <see cref="XsaveRules"/> an XSAVE image breaks and the offset, from the start of the area, of
/// the first byte that breaks it (the byte holding the lowest offending bit of a field, or the first non-zero
/// reserved byte).</summary>
public readonly record struct ImageViolation(string Rule, int Offset);
