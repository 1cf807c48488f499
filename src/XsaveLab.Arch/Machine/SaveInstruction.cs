namespace XsaveLab.Arch.Machine;

/// <summary>Which save instruction stores the extended state: the one enum for the instruction model, the
/// kernel's choice at boot, the cost model and the native harness.</summary>
/// <remarks>Instruction pages in SDM Vol.2 (XSAVE, XSAVEOPT, XSAVEC, XSAVES, FXSAVE, FNSAVE) and Vol.1 §13.7–13.11.
/// The kernel's preference order is XSAVES, else XSAVEC, else XSAVEOPT, else XSAVE, without XSAVE FXSAVE,
/// without FXSR FNSAVE (alternatives in arch/x86/kernel/fpu/xstate.h <c>XSTATE_XSAVE</c>).
/// The first three values are also the index of the native harness's per-instruction stubs.</remarks>
public enum SaveInstruction : byte
{
    /// <summary>XSAVE: standard form, no optimization.</summary>
    Xsave = 0,

    /// <summary>XSAVEC: compacted form, init optimization. CPUID(0xD,1).EAX[1].</summary>
    Xsavec = 1,

    /// <summary>XSAVEOPT: standard form, init and modified optimizations. CPUID(0xD,1).EAX[0].</summary>
    Xsaveopt = 2,

    /// <summary>XSAVES: compacted form with supervisor state, CPL 0, both optimizations. CPUID(0xD,1).EAX[3].</summary>
    Xsaves = 3,

    /// <summary>FXSAVE: the 512-byte legacy region only.</summary>
    Fxsave = 4,

    /// <summary>FNSAVE: the 108-byte x87 image (no FXSR).</summary>
    Fnsave = 5,
}

/// <summary>Properties of a <see cref="SaveInstruction"/>.</summary>
public static class SaveInstructionFacts
{
    /// <summary>The instruction writes the compacted form (XSAVEC, XSAVES).</summary>
    public static bool IsCompacted(this SaveInstruction i) => i is SaveInstruction.Xsavec or SaveInstruction.Xsaves;

    /// <summary>The instruction belongs to the XSAVE family (uses an XSAVE header).</summary>
    public static bool IsXsaveFamily(this SaveInstruction i) => i <= SaveInstruction.Xsaves;
}
