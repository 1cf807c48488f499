using System.Buffers.Binary;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Features;
using XsaveLab.Arch.Layout;

namespace XsaveLab.Arch.Machine;

/// <summary>A typed view of an XSAVE area in memory: the FXSAVE-layout legacy region, the XSAVE header and
/// the components in standard or compacted form (SDM Vol.1 §10.5.1, §13.4). It reads and writes the bytes in
/// place and allocates nothing.</summary>
public readonly ref struct XsaveArea
{
    public XsaveArea(Span<byte> bytes)
    {
        if (bytes.Length < XStateGeometry.ExtendedStart)
            throw new ArgumentException($"an XSAVE area has at least {XStateGeometry.ExtendedStart} bytes, got {bytes.Length}", nameof(bytes));
        Bytes = bytes;
    }

    public Span<byte> Bytes { get; }

    public ushort Fcw { get => U16(0); set => U16(0, value); }
    public ushort Fsw { get => U16(2); set => U16(2, value); }

    /// <summary>Abridged tag word: bit i = 1 when physical register i is not empty.</summary>
    public byte Ftw { get => Bytes[4]; set => Bytes[4] = value; }

    /// <summary>Last x87 opcode (11 bits).</summary>
    public ushort Fop { get => U16(6); set => U16(6, value); }

    /// <summary>64-bit FIP (REX.W forms of the instructions).</summary>
    public ulong Fip { get => U64(8); set => U64(8, value); }

    /// <summary>64-bit FDP (REX.W forms of the instructions).</summary>
    public ulong Fdp { get => U64(16); set => U64(16, value); }

    public uint Mxcsr { get => U32(24); set => U32(24, value); }
    public uint MxcsrMask { get => U32(28); set => U32(28, value); }

    /// <summary>ST(i)/MMi slot: 16 bytes, 10 used.</summary>
    public Span<byte> St(int i) => Bytes.Slice(32 + 16 * Check(i, 8), 16);

    public Span<byte> Xmm(int i) => Bytes.Slice(160 + 16 * Check(i, 16), 16);

    /// <summary>Bytes 464..511, free for software (Linux's fx_sw_bytes; gdb reads XCR0 at 464).</summary>
    public Span<byte> SoftwareReserved => Bytes.Slice(464, 48);

    public ulong XstateBv { get => U64(512); set => U64(512, value); }
    public ulong XcompBv { get => U64(520); set => U64(520, value); }

    /// <summary>Header bytes 528..575, which compacted-form XRSTOR requires to be zero (standard form: 528..535).</summary>
    public Span<byte> HeaderReserved => Bytes.Slice(528, 48);

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
    public void ClearHeader() => Bytes.Slice(XStateGeometry.HeaderOffset, XStateGeometry.HeaderSize).Clear();

    private static int Check(int i, int n) => (uint)i < (uint)n ? i : throw new ArgumentOutOfRangeException(nameof(i));
    private ushort U16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes[at..]);
    private void U16(int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes[at..], v);
    private uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes[at..]);
    private void U32(int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes[at..], v);
    private ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes[at..]);
    private void U64(int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Bytes[at..], v);
}
