namespace XsaveLab.Arch.Features;

/// <summary>One architectural register held by an XSAVE state component, as it appears in the standard-format
/// image: its name, its width in bits and its byte offset inside the component.</summary>
/// <remarks>For x87 and SSE, which share the 512-byte legacy region, <paramref name="Offset"/> is the offset
/// inside that region (SDM Vol.1 §10.5.1 table 10-2); for every other component it is the offset from the
/// component's own start (SDM Vol.1 §13.5). A register narrower than its slot (ST0–7: 80 bits in 16 bytes)
/// occupies the low bytes.</remarks>
/// <param name="Name">The SDM's register name, e.g. <c>XMM3</c>, <c>ZMM17</c>, <c>PL3_SSP</c>.</param>
/// <param name="Bits">Width of the register in bits.</param>
/// <param name="Offset">Byte offset (see remarks).</param>
public readonly record struct XRegister(string Name, int Bits, int Offset)
{
    /// <summary>Bytes the register occupies (rounded up to whole bytes).</summary>
    public int Bytes => (Bits + 7) / 8;
}
