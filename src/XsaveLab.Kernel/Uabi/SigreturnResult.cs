namespace XsaveLab.Kernel.Uabi;

/// <summary>How a sigreturn ended.</summary>
/// <param name="Ok">fpu__restore_sig() returned true.</param>
/// <param name="FxOnly">The frame was treated as a legacy FXSAVE-only frame (magic1/magic2/sizes did not match).</param>
/// <param name="Sigsegv">Failure: fpu__clear_user_states() ran and the caller forces SIGSEGV.</param>
/// <param name="Rule">Which check decided.</param>
/// <param name="Offset">Byte offset, from the start of the frame's fpstate (buf_fx), of the first byte that breaks
/// <paramref name="Rule"/> (for an FX-only fallback: the software byte that made the frame legacy); null when no
/// byte is to blame.</param>
public readonly record struct SigreturnResult(bool Ok, bool FxOnly, bool Sigsegv, string Rule, int? Offset = null);
