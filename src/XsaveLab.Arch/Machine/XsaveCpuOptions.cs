namespace XsaveLab.Arch.Machine;

/// <summary>Choices the architecture leaves to the implementation.</summary>
public sealed record XsaveCpuOptions
{
    /// <summary>Use the modified optimization in XSAVEOPT/XSAVES when its tracking conditions hold
    /// (SDM Vol.1 §13.6). Hardware may also decline; turning it off gives the always-write behaviour.</summary>
    public bool ModifiedOptimization { get; init; } = true;

    /// <summary>How XINUSE follows loads (SDM Vol.1 §13.6 lets hardware report 1 for a component that is in
    /// fact in its initial configuration); null picks the profile's vendor default
    /// (<see cref="XsaveCpu.XinUseTracking"/>).</summary>
    public XinUseTracking? XinUse { get; init; }

    public static readonly XsaveCpuOptions Default = new();
}

/// <summary>How a load (XRSTOR with XSTATE_BV[i]=1, a register write) updates XINUSE[i].</summary>
public enum XinUseTracking : byte
{
    /// <summary>XINUSE[i] is 1 exactly when the registers differ from the initial configuration (SSE: XMM all
    /// zero and MXCSR = 1F80H). Bochs does this, and so does this machine's processor: XRSTOR of an image whose
    /// XSTATE_BV marks a component present with its initial values leaves XINUSE[i]=0, and MXCSR ≠ 1F80H alone
    /// sets XINUSE[1] (differential tests against XGETBV(1)).</summary>
    CompareContents,

    /// <summary>What SDM Vol.1 §13.8.3 and §13.12 specify for XRSTOR/XRSTORS: a requested component that the
    /// image marks present (RFBM[i] = XSTATE_BV[i] = 1) is tracked as not init, whatever its value; a
    /// requested component that the image marks absent is initialized and tracked as init; an unrequested one
    /// keeps its XINUSE bit.</summary>
    SetOnLoad,
}
