namespace XsaveLab.Host.Tests.Native;

/// <summary>Standard-form test images with known register contents, and offsets of their parts.</summary>
internal static class NativeTestImages
{
    public const byte Fill = 0xCC;
    public const ulong PkruBit = 1UL << 9;
    public const int StSlots = 32, Xmm = 160, Header = 512, Extended = 576;

    public static ulong XstateBv(ReadOnlySpan<byte> a) => BinaryPrimitives.ReadUInt64LittleEndian(a[Header..]);

    public static ulong XcompBv(ReadOnlySpan<byte> a) => BinaryPrimitives.ReadUInt64LittleEndian(a[(Header + 8)..]);

    public static uint Mxcsr(ReadOnlySpan<byte> a) => BinaryPrimitives.ReadUInt32LittleEndian(a[24..]);

    public static byte[] Filled(int length)
    {
        var b = new byte[length];
        b.AsSpan().Fill(Fill);
        return b;
    }

    /// <summary>Size of component <paramref name="i"/>'s register data as a save writes it: PKRU is
    /// enumerated as 8 bytes but holds one 32-bit register.</summary>
    public static int DataSize(CpuProfile cpu, int i) => i == 9 ? 4 : cpu.Component(i)!.Value.Size;

    /// <summary>
    /// A standard image starting from the live XSAVE (so PKRU is the live value), with every other
    /// restorable component given distinct non-zero contents derived from <paramref name="seed"/>, FOP/FIP/FDP
    /// zero (vendor-specific when FSW.ES is clear), MXCSR 0x1F80 and MXCSR_MASK 0, XSTATE_BV = <see cref="NativeXsave.RestorableComponents"/> (all of XCR0 on most hosts).
    /// </summary>
    public static byte[] Known(NativeXsave x, CpuProfile cpu, int seed)
    {
        var img = new byte[x.StandardSize];
        x.SaveLive(SaveInstruction.Xsave, x.Xcr0, img);
        var rng = new Random(seed);
        img.AsSpan(0, 24).Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(img, 0x037F);     // FCW
        img[4] = 0xFF;                                              // abridged FTW: all valid
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(24), 0x1F80);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(28), 0);
        for (int r = 0; r < 8; r++)
        {
            var slot = img.AsSpan(StSlots + 16 * r, 16);
            slot.Clear();
            rng.NextBytes(slot[..10]);
        }
        rng.NextBytes(img.AsSpan(Xmm, 256));
        img.AsSpan(416, Header - 416).Clear();
        img.AsSpan(Header, 64).Clear();
        foreach (var p in XStateLayout.Standard(cpu, x.Xcr0).Components)
        {
            if (p.Number < 2 || p.Number == 9 || (x.RestorableComponents >> p.Number & 1) == 0)
                continue;
            var data = img.AsSpan(p.Offset, p.Size);
            rng.NextBytes(data);
            data[0] |= 1; // never all-zero
        }
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(Header), x.RestorableComponents);
        return img;
    }

    /// <summary>(offset, length) of the register data of component i in the standard form (x87 without
    /// MXCSR/MXCSR_MASK, which are checked on their own).</summary>
    public static IEnumerable<(int Offset, int Length)> StandardRanges(CpuProfile cpu, int i) => i switch
    {
        0 => [(0, 24), (StSlots, 128)],
        1 => [(Xmm, 256)],
        _ => [(cpu.Component(i)!.Value.StandardOffset!.Value, DataSize(cpu, i))],
    };

    public static IEnumerable<int> Bits(ulong mask)
    {
        for (int i = 0; i < 64; i++)
            if ((mask >> i & 1) != 0)
                yield return i;
    }

    public static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b);
}
