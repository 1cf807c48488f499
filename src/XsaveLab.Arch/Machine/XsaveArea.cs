namespace XsaveLab.Arch.Machine;

/// <summary>A typed view of an XSAVE area in memory: the FXSAVE-layout legacy region, the XSAVE header and
/// the components in standard or compacted form (SDM Vol.1 §10.5.1, §13.4). It reads and writes the bytes in
/// place and allocates nothing.</summary>
public readonly ref struct XsaveArea
{
    public XsaveArea(Span<byte> bytes)
    {
        if (bytes.Length < XsaveOffsets.ExtendedStart)
            throw new ArgumentException($"an XSAVE area has at least {XsaveOffsets.ExtendedStart} bytes, got {bytes.Length}", nameof(bytes));
        Bytes = bytes;
    }

    public Span<byte> Bytes { get; }

    public ushort Fcw { get => U16(XsaveOffsets.Fcw); set => U16(XsaveOffsets.Fcw, value); }
    public ushort Fsw { get => U16(XsaveOffsets.Fsw); set => U16(XsaveOffsets.Fsw, value); }

    /// <summary>Abridged tag word: bit i = 1 when physical register i is not empty.</summary>
    public byte Ftw { get => Bytes[XsaveOffsets.Ftw]; set => Bytes[XsaveOffsets.Ftw] = value; }

    /// <summary>Last x87 opcode (11 bits).</summary>
    public ushort Fop { get => U16(XsaveOffsets.Fop); set => U16(XsaveOffsets.Fop, value); }

    /// <summary>64-bit FIP (REX.W forms of the instructions).</summary>
    public ulong Fip { get => U64(XsaveOffsets.Fip); set => U64(XsaveOffsets.Fip, value); }

    /// <summary>64-bit FDP (REX.W forms of the instructions).</summary>
    public ulong Fdp { get => U64(XsaveOffsets.Fdp); set => U64(XsaveOffsets.Fdp, value); }

    public uint Mxcsr { get => U32(XsaveOffsets.Mxcsr); set => U32(XsaveOffsets.Mxcsr, value); }
    public uint MxcsrMask { get => U32(XsaveOffsets.MxcsrMask); set => U32(XsaveOffsets.MxcsrMask, value); }

    /// <summary>ST(i)/MMi slot: 16 bytes, 10 used.</summary>
    public Span<byte> St(int i) => Bytes.Slice(XsaveOffsets.St(Check(i, XsaveOffsets.StCount)), XsaveOffsets.StStride);

    public Span<byte> Xmm(int i) => Bytes.Slice(XsaveOffsets.Xmm(Check(i, XsaveOffsets.XmmCount)), XsaveOffsets.XmmStride);

    /// <summary>Bytes 464..511, free for software (Linux's fx_sw_bytes; gdb reads XCR0 at 464).</summary>
    public Span<byte> SoftwareReserved => Bytes.Slice(XsaveOffsets.SwReserved, XsaveOffsets.SwReservedSize);

    public ulong XstateBv { get => U64(XsaveOffsets.XstateBv); set => U64(XsaveOffsets.XstateBv, value); }
    public ulong XcompBv { get => U64(XsaveOffsets.XcompBv); set => U64(XsaveOffsets.XcompBv, value); }

    /// <summary>Header bytes 528..575, which compacted-form XRSTOR requires to be zero (standard form: 528..535).</summary>
    public Span<byte> HeaderReserved => Bytes.Slice(XsaveOffsets.HeaderReserved, XsaveOffsets.HeaderReservedSize);

    public bool IsCompacted => (XcompBv & XFeatureMasks.CompactedFormat) != 0;

    /// <summary>The bytes of component <paramref name="component"/> on <paramref name="cpu"/>: the legacy slot
    /// for x87/SSE, else its standard offset or its compacted offset under this area's XCOMP_BV. Empty when the
    /// component has no place in this area.</summary>
    public Span<byte> Component(CpuProfile cpu, int component)
    {
        if (cpu.Component(component) is not { } c)
            return default;
        int offset;
        if (component <= 1 || !IsCompacted)
            offset = c.StandardOffset ?? -1;
        else if ((XcompBv >> component & 1) == 0)
            return default;
        else
            offset = XStateGeometry.Offset(cpu, XcompBv, component, true);
        return offset < 0 || offset + c.Size > Bytes.Length ? default : Bytes.Slice(offset, c.Size);
    }

    /// <summary>Zeroes the 64-byte header (what software must do before saving into a buffer it will restore).</summary>
    public void ClearHeader() => Bytes.Slice(XsaveOffsets.Header, XsaveOffsets.HeaderSize).Clear();

    private static int Check(int i, int n) => (uint)i < (uint)n ? i : throw new ArgumentOutOfRangeException(nameof(i));
    private ushort U16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes[at..]);
    private void U16(int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes[at..], v);
    private uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes[at..]);
    private void U32(int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes[at..], v);
    private ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes[at..]);
    private void U64(int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Bytes[at..], v);
}
