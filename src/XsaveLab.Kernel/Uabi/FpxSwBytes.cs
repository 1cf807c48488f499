namespace XsaveLab.Kernel.Uabi;

/// <summary>Software bytes of a 64-bit signal frame (<c>struct _fpx_sw_bytes</c> at offset 464).</summary>
public readonly record struct FpxSwBytes(uint Magic1, uint ExtendedSize, ulong Xfeatures, uint XstateSize)
{
    /// <summary>Frame offsets of the fields (arch/x86/include/uapi/asm/sigcontext.h <c>struct _fpx_sw_bytes</c>).</summary>
    public const int Magic1Offset = XsaveOffsets.SwReserved, ExtendedSizeOffset = Magic1Offset + 4,
        XfeaturesOffset = Magic1Offset + 8, XstateSizeOffset = Magic1Offset + 16;

    public static FpxSwBytes Read(ReadOnlySpan<byte> frame) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(frame[Magic1Offset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(frame[ExtendedSizeOffset..]),
        BinaryPrimitives.ReadUInt64LittleEndian(frame[XfeaturesOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(frame[XstateSizeOffset..]));

    public void Write(Span<byte> frame)
    {
        var sw = frame.Slice(XsaveOffsets.SwReserved, XsaveOffsets.SwReservedSize);
        sw.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(sw, Magic1);
        BinaryPrimitives.WriteUInt32LittleEndian(sw[4..], ExtendedSize);
        BinaryPrimitives.WriteUInt64LittleEndian(sw[8..], Xfeatures);
        BinaryPrimitives.WriteUInt32LittleEndian(sw[16..], XstateSize);
    }
}
