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

    /// <summary>A deep copy: every register and control value copied, the register file a buffer of its own. The
    /// profile, options and register layout are read-only after construction and shared.</summary>
    /// <remarks>Fields are copied by <see cref="object.MemberwiseClone"/>, so a value field added later is copied
    /// without being listed; a mutable reference field must be replaced here (the clone test names any that is
    /// shared).</remarks>
    public XsaveCpu Clone()
    {
        var c = (XsaveCpu)MemberwiseClone();
        c._regs = (byte[])_regs.Clone();
        return c;
    }

    partial void InitState();
}
