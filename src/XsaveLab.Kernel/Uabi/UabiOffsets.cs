namespace XsaveLab.Kernel.Uabi;

/// <summary>Byte offsets of the legacy FXSAVE region and XSAVE header as user space sees them
/// (arch/x86/include/asm/fpu/types.h <c>struct fxregs_state</c>, <c>struct xstate_header</c>;
/// arch/x86/include/uapi/asm/sigcontext.h <c>struct _fpx_sw_bytes</c>).</summary>
public static class UabiOffsets
{
    public const int Fcw = 0;
    public const int Fsw = 2;
    public const int Ftw = 4;
    public const int Mxcsr = 24;
    public const int MxcsrMask = 28;

    /// <summary>sizeof the part of fxregs_state before MXCSR: the x87 environment.</summary>
    public const int FpEnvSize = 24;

    /// <summary>MXCSR_AND_FLAGS_SIZE: MXCSR and MXCSR_MASK.</summary>
    public const int MxcsrAndFlagsSize = 8;

    public const int StSpace = 32;
    public const int StSpaceSize = 128;
    public const int XmmSpace = 160;
    public const int XmmSpaceSize = 256;
    public const int Padding = 416;
    public const int PaddingSize = 48;

    /// <summary>sw_reserved: <c>struct _fpx_sw_bytes</c> in signal frames, XCR0 in ptrace/core images.</summary>
    public const int SwReserved = 464;
    public const int SwReservedSize = 48;

    public const int FxsaveSize = 512;
    public const int Header = 512;
    public const int XstateBv = 512;
    public const int XcompBv = 520;
    public const int HeaderReserved = 528;
    public const int HeaderReservedSize = 48;
    public const int HeaderSize = 64;
    public const int ExtendedStart = 576;

    /// <summary>sizeof(struct fregs_state): the 32-bit FSAVE header that precedes ia32 FXSR frames.</summary>
    public const int FregsStateSize = 112;
}
