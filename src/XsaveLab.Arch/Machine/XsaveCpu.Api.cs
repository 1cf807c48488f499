namespace XsaveLab.Arch.Machine;

// Public surface of the instruction model (the contract the kernel and KVM models program against).
// Instruction bodies: XsaveCpu.Save.cs, XsaveCpu.Restore.cs, XsaveCpu.Control.cs; registers: XsaveCpu.State.cs.
public sealed partial class XsaveCpu
{
    /// <summary>CR4.OSXSAVE.</summary>
    public bool OsXsave { get; set; }

    /// <summary>CR0.TS: the XSAVE/XRSTOR family raises #NM while it is set (XGETBV/XSETBV do not look at it).</summary>
    public bool Cr0Ts { get; set; }

    /// <summary>Current privilege level (0 = kernel, 3 = user).</summary>
    public int Cpl { get; set; }

    /// <summary>The CPU runs in VMX non-root operation (a guest). Only the modified optimization looks at it:
    /// XRSTOR and the later save must both be in, or both out of, non-root operation (SDM Vol.1 §13.6).</summary>
    public bool VmxNonRoot { get; set; }

    /// <summary>The CPU runs in system-management mode; same role as <see cref="VmxNonRoot"/>.</summary>
    public bool Smm { get; set; }

    /// <summary>Extended control register 0 (user state components enabled).</summary>
    public ulong Xcr0 => _xcr0;

    /// <summary>IA32_XSS (supervisor state components enabled).</summary>
    public ulong Xss => _xss;

    /// <summary>IA32_XFD: components whose use raises #NM.</summary>
    public ulong Xfd => _xfd;

    /// <summary>IA32_XFD_ERR: components that raised #NM through XFD.</summary>
    public ulong XfdErr => _xfdErr;

    /// <summary>XINUSE: components not known to be in their initial configuration (SDM Vol.1 §13.6), as
    /// XGETBV(1) shows it (SSE counts as in use when MXCSR ≠ 1F80H).</summary>
    public ulong XinUse => VisibleXinUse;

    /// <summary>XMODIFIED: components written since the most recent XRSTOR/XRSTORS (SDM Vol.1 §13.6);
    /// only meaningful while <see cref="RestoreTracking"/> is valid.</summary>
    public ulong XModified => _xmodified;

    /// <summary>What the processor remembers of the most recent XRSTOR/XRSTORS for the modified
    /// optimization (SDM Vol.1 §13.6 "XRSTOR_INFO"), or null when it has been invalidated.</summary>
    public RestoreTracking? LastRestore => _track.Valid ? _track : null;

    private ulong _xcr0 = 1;
    private ulong _xss;
    private ulong _xfd;
    private ulong _xfdErr;
    private ulong _xinuse;
    private ulong _xmodified = ~0UL;
    private RestoreTracking _track;
}

/// <summary>Which instruction set up the modified-optimization tracking.</summary>
public enum RestoreKind : byte
{
    XrstorStandard,
    XrstorCompacted,
    Xrstors,
}

/// <summary>XRSTOR_INFO of SDM Vol.1 §13.6: linear address, CPL, VMX non-root and SMM state and format mask of
/// the last restore, plus the XCR0/IA32_XSS in force (any XSETBV or WRMSR of IA32_XSS/IA32_XFD invalidates it).</summary>
public readonly record struct RestoreTracking(bool Valid, RestoreKind Kind, ulong Address, int Cpl, ulong CompMask, ulong Xcr0, ulong Xss,
    bool VmxNonRoot = false, bool Smm = false);
