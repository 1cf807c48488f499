namespace XsaveLab.Arch.Machine;

/// <summary>The extended state of one logical CPU and the XSAVE-family instructions that act on it.
/// Memory operands are a span plus the linear address the model treats it as living at (alignment checks
/// and the modified-optimization tracking use the address).</summary>
public sealed partial class XsaveCpu
{
    public XsaveCpu(CpuProfile profile, XsaveCpuOptions? options = null)
    {
        Profile = profile;
        Options = options ?? XsaveCpuOptions.Default;
        InitState();
    }

    public CpuProfile Profile { get; }
    public XsaveCpuOptions Options { get; }

    partial void InitState();
}
