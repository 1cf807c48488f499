namespace XsaveLab.Kernel.Boot;

/// <summary>The instruction <c>os_xsave()</c>/<c>save_fpregs_to_fpstate()</c> ends up using (alternatives in
/// arch/x86/kernel/fpu/xstate.h: XSAVES, else XSAVEC, else XSAVEOPT, else XSAVE; without XSAVE FXSAVE,
/// without FXSR FNSAVE).</summary>
public enum SaveInstruction : byte
{
    Xsaves,
    Xsavec,
    Xsaveopt,
    Xsave,
    Fxsave,
    Fnsave,
}
