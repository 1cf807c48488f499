namespace XsaveLab.Arch.Machine;

/// <summary>The fixed geometry of every XSAVE area: the FXSAVE-format legacy region, the software-reserved
/// bytes, the XSAVE header and where the extended area starts. The one home of these numbers for every layer.</summary>
/// <remarks>Legacy region: SDM Vol.1 §10.5.1 table 10-2 (64-bit FXSAVE format, REX.W forms) and §13.4.1;
/// header: SDM Vol.1 §13.4.2; the kernel's <c>struct fxregs_state</c> and <c>struct xstate_header</c>
/// (arch/x86/include/asm/fpu/types.h), <c>FXSAVE_SIZE</c>, <c>XSAVE_HDR_OFFSET</c>, <c>XSAVE_HDR_SIZE</c> and
/// <c>XSAVE_ALIGNMENT</c> (arch/x86/include/asm/fpu/xstate.h); <c>struct _fpx_sw_bytes</c> in the software
/// bytes (arch/x86/include/uapi/asm/sigcontext.h).</remarks>
public static class XsaveOffsets
{
    /// <summary>x87 control word (16 bits).</summary>
    public const int Fcw = 0;

    /// <summary>x87 status word (16 bits).</summary>
    public const int Fsw = 2;

    /// <summary>Abridged x87 tag word (8 bits; byte 5 is reserved).</summary>
    public const int Ftw = 4;

    /// <summary>Last x87 opcode (11 bits in a 16-bit field).</summary>
    public const int Fop = 6;

    /// <summary>x87 instruction pointer (64 bits in the REX.W format).</summary>
    public const int Fip = 8;

    /// <summary>x87 data pointer (64 bits in the REX.W format).</summary>
    public const int Fdp = 16;

    public const int Mxcsr = 24;
    public const int MxcsrMask = 28;

    /// <summary>The x87 environment: the bytes of the legacy region before MXCSR.</summary>
    public const int FpEnvSize = Mxcsr;

    /// <summary>MXCSR and MXCSR_MASK (the kernel's MXCSR_AND_FLAGS_SIZE).</summary>
    public const int MxcsrAndFlagsSize = 8;

    /// <summary>ST0/MM0; ST(i) is at <see cref="StSpace"/> + i·<see cref="StStride"/> (80 bits in 16 bytes).</summary>
    public const int StSpace = 32;
    public const int StStride = 16;
    public const int StCount = 8;
    public const int StSpaceSize = StStride * StCount;

    /// <summary>XMM0; XMM(i) is at <see cref="XmmSpace"/> + i·<see cref="XmmStride"/> (16 registers in 64-bit mode).</summary>
    public const int XmmSpace = 160;
    public const int XmmStride = 16;
    public const int XmmCount = 16;
    public const int XmmSpaceSize = XmmStride * XmmCount;

    /// <summary>End of the x87 part of the legacy region (x87 state is bytes 0..23 and 32..159).</summary>
    public const int X87Size = XmmSpace;

    /// <summary>Bytes 416..463: reserved, not written by FXSAVE/XSAVE.</summary>
    public const int Padding = XmmSpace + XmmSpaceSize;
    public const int PaddingSize = SwReserved - Padding;

    /// <summary>Bytes 464..511: free for software. Linux puts <c>struct _fpx_sw_bytes</c> here in signal frames
    /// and the user XCR0 in ptrace and core-dump images (<c>xstate_fx_sw_bytes</c>).</summary>
    public const int SwReserved = 464;
    public const int SwReservedSize = LegacySize - SwReserved;

    /// <summary>Size of the legacy region, which is also the FXSAVE/FXRSTOR area (<c>FXSAVE_SIZE</c>).</summary>
    public const int LegacySize = 512;
    public const int FxsaveSize = LegacySize;

    /// <summary>The XSAVE header follows the legacy region (<c>XSAVE_HDR_OFFSET</c>).</summary>
    public const int Header = LegacySize;

    /// <summary>XSTATE_BV: header bytes 0..7.</summary>
    public const int XstateBv = Header;

    /// <summary>XCOMP_BV: header bytes 8..15 (bit 63 = compacted format).</summary>
    public const int XcompBv = Header + 8;

    /// <summary>Header bytes 16..63, which XRSTOR requires to be zero (SDM Vol.1 §13.8.1).</summary>
    public const int HeaderReserved = Header + 16;
    public const int HeaderReservedSize = HeaderSize - 16;

    /// <summary><c>XSAVE_HDR_SIZE</c>.</summary>
    public const int HeaderSize = 64;

    /// <summary>Legacy region + header: where the extended components (2 and up) start in either form.</summary>
    public const int ExtendedStart = Header + HeaderSize;

    /// <summary>Alignment of an XSAVE area in memory and of components with CPUID(0xD,i).ECX[1] in the compacted
    /// form (<c>XSAVE_ALIGNMENT</c>).</summary>
    public const int Alignment = 64;

    /// <summary><paramref name="offset"/> rounded up to <see cref="Alignment"/> (SDM Vol.1 §13.4.3).</summary>
    public static int Align64(int offset) => (offset + Alignment - 1) & ~(Alignment - 1);

    /// <summary>Offset of ST(<paramref name="i"/>).</summary>
    public static int St(int i) => StSpace + StStride * i;

    /// <summary>Offset of XMM<paramref name="i"/>.</summary>
    public static int Xmm(int i) => XmmSpace + XmmStride * i;
}
