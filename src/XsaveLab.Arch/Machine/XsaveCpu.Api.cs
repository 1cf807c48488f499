namespace XsaveLab.Arch.Machine;

// Contract of the instruction model. Bodies are provided by the machine implementation files; this file
// fixes the public surface that the kernel and KVM models program against.
public sealed partial class XsaveCpu
{
    /// <summary>CR4.OSXSAVE.</summary>
    public bool OsXsave { get; set; }

    /// <summary>Current privilege level (0 = kernel, 3 = user).</summary>
    public int Cpl { get; set; }

    /// <summary>Extended control register 0 (user state components enabled).</summary>
    public ulong Xcr0 => _xcr0;

    /// <summary>IA32_XSS (supervisor state components enabled).</summary>
    public ulong Xss => _xss;

    /// <summary>IA32_XFD: components whose use raises #NM.</summary>
    public ulong Xfd => _xfd;

    /// <summary>IA32_XFD_ERR: components that raised #NM through XFD.</summary>
    public ulong XfdErr => _xfdErr;

    /// <summary>XINUSE: components not known to be in their initial configuration (SDM Vol.1 §13.6).</summary>
    public ulong XinUse => _xinuse;

    private ulong _xcr0 = 1, _xss, _xfd, _xfdErr, _xinuse;
}
