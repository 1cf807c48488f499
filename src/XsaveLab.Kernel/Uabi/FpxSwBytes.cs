namespace XsaveLab.Kernel.Uabi;

/// <summary>Software bytes of a 64-bit signal frame (<c>struct _fpx_sw_bytes</c> at offset 464).</summary>
public readonly record struct FpxSwBytes(uint Magic1, uint ExtendedSize, ulong Xfeatures, uint XstateSize)
{
    public static FpxSwBytes Read(ReadOnlySpan<byte> frame) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(frame[XsaveOffsets.SwReserved..]),
        BinaryPrimitives.ReadUInt32LittleEndian(frame[(XsaveOffsets.SwReserved + 4)..]),
        BinaryPrimitives.ReadUInt64LittleEndian(frame[(XsaveOffsets.SwReserved + 8)..]),
        BinaryPrimitives.ReadUInt32LittleEndian(frame[(XsaveOffsets.SwReserved + 16)..]));

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
