namespace XsaveLab.Arch.Machine;

/// <summary>Choices the architecture leaves to the implementation.</summary>
public sealed record XsaveCpuOptions
{
    /// <summary>Use the modified optimization in XSAVEOPT/XSAVES when its tracking conditions hold
    /// (SDM Vol.1 §13.6). Hardware may also decline; turning it off gives the always-write behaviour.</summary>
    public bool ModifiedOptimization { get; init; } = true;

    public static readonly XsaveCpuOptions Default = new();
}
