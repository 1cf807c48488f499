using XsaveLab.Tests;

namespace XsaveLab.Host.Tests.Image;

/// <summary>Seeded malformations of a valid XSAVE image aimed at the rules its consumers check: XSTATE_BV bits beyond
/// XCR0, XCOMP_BV non-zero or compacted, reserved header bytes, MXCSR reserved bits, the signal frame's
/// fpx_sw_bytes (magic1, sizes, xfeatures) and MAGIC2, the length, and the shared byte-level mutator — mixed with
/// changes every consumer accepts, so that both answers occur.</summary>
internal static class MalformedImages
{
    private const uint FpXstateMagic1 = 0x46505853, FpXstateMagic2 = 0x46505845;
    private static readonly uint[] Sizes = [0, 4, 512, 575, 576, 580, 832, 2440, 2696, 4096, 0x7FFFFFFF, 0xFFFFFFFF];

    /// <summary>One to two malformations of <paramref name="valid"/> (a copy); <paramref name="resize"/> allows the
    /// length to change (a consumer given a length, as ptrace is, rather than a place in memory).</summary>
    public static byte[] Next(Random rng, byte[] valid, ulong xcr0, bool resize)
    {
        var b = (byte[])valid.Clone();
        int n = rng.Next(1, 3);
        for (int k = 0; k < n; k++)
        {
            switch (rng.Next(resize ? 15 : 14))
            {
                case 0: // a bit XCR0 does not enable
                    ulong outside = ~xcr0;
                    int bit;
                    do bit = rng.Next(64); while ((outside >> bit & 1) == 0);
                    Or64(b, XsaveOffsets.XstateBv, 1UL << bit);
                    break;
                case 1:
                    Xor64(b, XsaveOffsets.XstateBv, 1UL << rng.Next(64));
                    break;
                case 2: // a subset of XCR0 (accepted by every consumer)
                    W64(b, XsaveOffsets.XstateBv, xcr0 & (ulong)rng.NextInt64());
                    break;
                case 3: // XCOMP_BV non-zero without the compacted bit
                    W64(b, XsaveOffsets.XcompBv, rng.Next(2) == 0 ? 1UL << rng.Next(63) : (ulong)rng.NextInt64() & ~XFeatureMasks.CompactedFormat);
                    break;
                case 4: // a consistent compacted header
                    ulong comp = xcr0 & (ulong)rng.NextInt64() | XFeatureMasks.FpSse & xcr0;
                    W64(b, XsaveOffsets.XcompBv, XFeatureMasks.CompactedFormat | comp);
                    W64(b, XsaveOffsets.XstateBv, R64(b, XsaveOffsets.XstateBv) & comp);
                    break;
                case 5: // compacted bit with arbitrary features
                    W64(b, XsaveOffsets.XcompBv, XFeatureMasks.CompactedFormat | (rng.Next(2) == 0 ? 0 : 1UL << rng.Next(63)));
                    break;
                case 6:
                    b[rng.Next(XsaveOffsets.HeaderReserved, XsaveOffsets.ExtendedStart)] = (byte)rng.Next(1, 256);
                    break;
                case 7: // MXCSR reserved bits (and bit 17, which some processors' MXCSR_MASK allows)
                    W32(b, XsaveOffsets.Mxcsr, R32(b, XsaveOffsets.Mxcsr) | 1u << rng.Next(16, 32));
                    break;
                case 8: // a valid MXCSR
                    W32(b, XsaveOffsets.Mxcsr, (uint)rng.Next(0x10000) & 0xFFBF);
                    break;
                case 9:
                    W32(b, XsaveOffsets.SwReserved, rng.Next(2) == 0 ? FpXstateMagic1 : R32(b, XsaveOffsets.SwReserved) ^ 1u << rng.Next(32));
                    break;
                case 10: // extended_size or xstate_size
                    W32(b, XsaveOffsets.SwReserved + (rng.Next(2) == 0 ? 4 : 16), rng.Next(3) == 0 ? (uint)b.Length - 4 : Sizes[rng.Next(Sizes.Length)]);
                    break;
                case 11: // fpx_sw_bytes.xfeatures
                    W64(b, XsaveOffsets.SwReserved + 8, rng.Next(2) == 0 ? xcr0 & (ulong)rng.NextInt64() : (ulong)rng.NextInt64());
                    break;
                case 12: // MAGIC2 after the image
                    if (b.Length >= 4)
                        W32(b, b.Length - 4, rng.Next(2) == 0 ? FpXstateMagic2 ^ 1u << rng.Next(32) : FpXstateMagic2);
                    break;
                case 13: // the shared byte-level mutator, at the same length
                    var m = Fuzz.MutateImage(rng, b, [], maxMutations: 2);
                    var same = new byte[b.Length];
                    m.AsSpan(0, Math.Min(m.Length, same.Length)).CopyTo(same);
                    if (m.Length < same.Length)
                        b.AsSpan(m.Length).CopyTo(same.AsSpan(m.Length));
                    b = same;
                    break;
                default: // the length: short, one qword short or long, not a multiple of 8, much longer
                    int len = rng.Next(5) switch
                    {
                        0 => rng.Next(0, XsaveOffsets.ExtendedStart + 1),
                        1 => b.Length - 8,
                        2 => b.Length + 8,
                        3 => b.Length + rng.Next(1, 8),
                        _ => b.Length + 4096,
                    };
                    Array.Resize(ref b, Math.Max(0, len));
                    break;
            }
        }
        return b;
    }

    private static ulong R64(byte[] b, int at) => b.Length >= at + 8 ? BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at)) : 0;
    private static uint R32(byte[] b, int at) => b.Length >= at + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)) : 0;

    private static void W64(byte[] b, int at, ulong v)
    {
        if (b.Length >= at + 8)
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
    }

    private static void W32(byte[] b, int at, uint v)
    {
        if (b.Length >= at + 4)
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
    }

    private static void Or64(byte[] b, int at, ulong bits) => W64(b, at, R64(b, at) | bits);
    private static void Xor64(byte[] b, int at, ulong bits) => W64(b, at, R64(b, at) ^ bits);
}
