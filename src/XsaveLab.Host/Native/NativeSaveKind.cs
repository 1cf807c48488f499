namespace XsaveLab.Host.Native;

/// <summary>The user-mode save instructions the native harness can execute (64-bit operand forms).</summary>
public enum NativeSaveKind
{
    /// <summary>XSAVE64 (REX.W 0F AE /4): standard form, no optimizations.</summary>
    Xsave,

    /// <summary>XSAVEC64 (REX.W 0F C7 /4): compacted form, init optimization. CPUID(0xD,1).EAX[1].</summary>
    Xsavec,

    /// <summary>XSAVEOPT64 (REX.W 0F AE /6): standard form, init and modified optimizations. CPUID(0xD,1).EAX[0].</summary>
    Xsaveopt,
}
