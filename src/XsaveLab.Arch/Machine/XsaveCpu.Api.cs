namespace XsaveLab.Arch.Machine;

// Contract of the instruction model: the public surface the kernel and KVM models program against.
// The bodies below are placeholders to be replaced by the implementation (XsaveCpu.*.cs).
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

    private ulong _xcr0 = 1;
    private ulong _xss = 0;
    private ulong _xfd = 0;
    private ulong _xfdErr = 0;
    private ulong _xinuse = 0;

    partial void InitState() { }

    /// <summary>XGETBV: ECX=0 → XCR0; ECX=1 → XCR0 &amp; XINUSE (needs XGETBV1).</summary>
    public XsaveFault Xgetbv(uint ecx, out ulong value) => throw new NotImplementedException();

    /// <summary>XSETBV (CPL 0 only).</summary>
    public XsaveFault Xsetbv(uint ecx, ulong value) => throw new NotImplementedException();

    /// <summary>RDMSR of IA32_XSS, IA32_XFD, IA32_XFD_ERR and the CET MSRs held in XSAVE components.</summary>
    public XsaveFault Rdmsr(uint msr, out ulong value) => throw new NotImplementedException();

    /// <summary>WRMSR of the same MSRs, with their reserved-bit rules.</summary>
    public XsaveFault Wrmsr(uint msr, ulong value) => throw new NotImplementedException();

    public XsaveFault Xsave(Span<byte> area, ulong address, ulong edxEax) => throw new NotImplementedException();
    public XsaveFault Xsaveopt(Span<byte> area, ulong address, ulong edxEax) => throw new NotImplementedException();
    public XsaveFault Xsavec(Span<byte> area, ulong address, ulong edxEax) => throw new NotImplementedException();
    public XsaveFault Xsaves(Span<byte> area, ulong address, ulong edxEax) => throw new NotImplementedException();
    public XsaveFault Xrstor(ReadOnlySpan<byte> area, ulong address, ulong edxEax) => throw new NotImplementedException();
    public XsaveFault Xrstors(ReadOnlySpan<byte> area, ulong address, ulong edxEax) => throw new NotImplementedException();

    /// <summary>The register contents of component <paramref name="component"/> in its standard-format image
    /// (x87: bytes 0..159 of the legacy region without MXCSR/MXCSR_MASK; SSE: XMM0-15; others: the component).</summary>
    public ReadOnlySpan<byte> Read(int component) => throw new NotImplementedException();

    /// <summary>What an instruction that writes component <paramref name="component"/> does: #NM (and
    /// IA32_XFD_ERR updated) when XFD arms it, else the registers take <paramref name="data"/> and XINUSE is set.</summary>
    public XsaveFault Write(int component, ReadOnlySpan<byte> data) => throw new NotImplementedException();

    /// <summary>Puts a component in its initial configuration and clears its XINUSE bit (e.g. TILERELEASE, VZEROUPPER).</summary>
    public void Init(int component) => throw new NotImplementedException();

    /// <summary>MXCSR (shared by SSE and AVX).</summary>
    public uint Mxcsr { get => throw new NotImplementedException(); set => throw new NotImplementedException(); }
}
