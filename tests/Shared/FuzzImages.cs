using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace XsaveLab.Tests;

// Binary inputs (XSAVE images) for the same seeded fuzzing as the text inputs: the same seeds per input index, the
// same time and allocation limits, and a failure report with the seed and a minimal input. The minimal input is
// printed in the sparse hex form that ParseSparse reads, so it can be kept as a regression case as it stands.
internal static partial class Fuzz
{
    /// <summary>Runs <paramref name="check"/> on <paramref name="count"/> images made by <paramref name="generate"/>
    /// from a <see cref="Random"/> seeded with (seed, index); throws a <see cref="FuzzFailure"/> with the seed and
    /// the shrunk image on the first failure (exception, time-out or allocation over the limit).</summary>
    public static void RunBytes(string target, int seed, int count, Func<Random, byte[]> generate, Action<byte[]> check, Limits? limits = null)
    {
        limits ??= Limits.Default;
        for (int i = 0; i < count; i++)
        {
            byte[] input = generate(new Random(unchecked(seed * 1_000_003 + i)));
            if (Failure(input, check, limits) is not { } why)
                continue;
            byte[] minimal = why.StartsWith("timeout", StringComparison.Ordinal) ? input : ShrinkBytes(input, check, limits);
            string minimalWhy = Failure(minimal, check, limits) ?? why;
            throw new FuzzFailure($"fuzz target '{target}' failed: seed {seed}, input #{i} (replay: FUZZ_SEED={seed} FUZZ_ITERATIONS={i + 1})\n" +
                                  $"failure: {minimalWhy}\n----- minimal input ({minimal.Length} bytes) -----\n{Sparse(minimal)}----- end -----");
        }
    }

    /// <summary>Null when <paramref name="check"/> passes on <paramref name="input"/> within the limits, else why not.</summary>
    public static string? Failure(byte[] input, Action<byte[]> check, Limits limits) => Failure("", _ => check(input), limits);

    /// <summary>Cuts the tail, then zeroes ever smaller chunks, while the image still fails (a bounded number of checks).</summary>
    public static byte[] ShrinkBytes(byte[] input, Action<byte[]> check, Limits limits)
    {
        byte[] current = input;
        int budget = 300;
        for (int cut = current.Length / 2; cut >= 16 && budget > 0; cut /= 2)
        {
            while (current.Length > cut && budget-- > 0 && Failure(current[..^cut], check, limits) is not null)
                current = current[..^cut];
        }
        for (int chunk = Math.Max(1, current.Length / 4); chunk >= 1 && budget > 0; chunk = chunk > 1 ? Math.Max(1, chunk / 4) : 0)
        {
            for (int at = 0; at < current.Length && budget > 0; at += chunk)
            {
                int len = Math.Min(chunk, current.Length - at);
                if (current.AsSpan(at, len).IndexOfAnyExcept((byte)0) < 0)
                    continue;
                var candidate = (byte[])current.Clone();
                candidate.AsSpan(at, len).Clear();
                budget--;
                if (Failure(candidate, check, limits) is not null)
                    current = candidate;
            }
        }
        return current;
    }

    /// <summary>The image as <c>length N</c> followed by one <c>OFFSET: HEX</c> line per non-zero 16-byte row.</summary>
    public static string Sparse(byte[] image)
    {
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture, $"length {image.Length}\n");
        for (int at = 0; at < image.Length; at += 16)
        {
            var row = image.AsSpan(at, Math.Min(16, image.Length - at));
            if (row.IndexOfAnyExcept((byte)0) >= 0)
                sb.Append(CultureInfo.InvariantCulture, $"{at:x4}: {Convert.ToHexStringLower(row)}\n");
        }
        return sb.ToString();
    }

    /// <summary>Reads what <see cref="Sparse"/> writes (blank lines and lines starting with # are ignored).</summary>
    public static byte[] ParseSparse(string text)
    {
        byte[]? image = null;
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            if (line.StartsWith("length ", StringComparison.Ordinal))
            {
                image = new byte[int.Parse(line[7..], NumberStyles.None, CultureInfo.InvariantCulture)];
                continue;
            }
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            int at = int.Parse(line[..colon], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            Convert.FromHexString(line[(colon + 1)..].Trim()).CopyTo(image ?? throw new FormatException("sparse image without a length line"), at);
        }
        return image ?? throw new FormatException("sparse image without a length line");
    }

    // ---- mutations of XSAVE images ----

    private const int SwMagic1 = 464, SwExtendedSize = 468, SwXfeatures = 472, SwXstateSize = 480;
    private const uint FpXstateMagic1 = 0x46505853, FpXstateMagic2 = 0x46505845;

    private static readonly uint[] SpecialSizes = [0, 1, 4, 511, 512, 516, 575, 576, 580, 832, 2696, 4096, 11008, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF];

    /// <summary>1 to <paramref name="maxMutations"/> mutations of an XSAVE image: XSTATE_BV and XCOMP_BV (random,
    /// one bit flipped, the compacted bit toggled, one copied into the other), reserved header bytes, MXCSR,
    /// the sw_reserved bytes (magic, sizes, xfeatures, FP_XSTATE_MAGIC2 moved or broken), x87 control fields,
    /// truncation and extension, random bytes, and the contents of the <paramref name="components"/> regions
    /// (offset and size of components worth aiming at, such as CET, PKRU, TILECFG and PASID).</summary>
    public static byte[] MutateImage(Random rng, byte[] image, IReadOnlyList<(int Offset, int Size)> components, int maxMutations = 4)
    {
        byte[] b = (byte[])image.Clone();
        int n = rng.Next(1, maxMutations + 1);
        for (int k = 0; k < n; k++)
        {
            switch (rng.Next(12))
            {
                case 0:
                    Mutate64(rng, b, 512);
                    break;
                case 1:
                    Mutate64(rng, b, 520);
                    break;
                case 2:
                    if (b.Length >= 576)
                        b[rng.Next(528, 576)] = (byte)rng.Next(1, 256);
                    break;
                case 3:
                    Mutate32(rng, b, 24, [0x1F80, 0xFFFF, 0x10000, 0xFFFFFFFF, 0x0000FFBF, 0x20000]);
                    break;
                case 4:
                    Mutate32(rng, b, rng.Next(4) switch { 0 => SwMagic1, 1 => SwExtendedSize, 2 => SwXstateSize, _ => 28 },
                        [.. SpecialSizes, FpXstateMagic1, (uint)b.Length, (uint)b.Length + 4]);
                    break;
                case 5:
                    Mutate64(rng, b, SwXfeatures);
                    break;
                case 6:
                    if (b.Length >= 4)
                    {
                        int at = rng.Next(3) == 0 ? rng.Next(b.Length - 3) : b.Length - 4;
                        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), rng.Next(2) == 0 ? FpXstateMagic2 : FpXstateMagic2 ^ (1u << rng.Next(32)));
                    }
                    break;
                case 7:
                    int[] cuts = [0, 1, 24, 159, 160, 416, 463, 464, 511, 512, 519, 520, 527, 575, 576, 577, b.Length - 4, b.Length - 1];
                    int len = rng.Next(2) == 0 ? cuts[rng.Next(cuts.Length)] : rng.Next(b.Length + 1);
                    b = b[..Math.Clamp(len, 0, b.Length)];
                    break;
                case 8:
                    var longer = new byte[b.Length + (rng.Next(3) == 0 ? rng.Next(1, 9000) : rng.Next(1, 65))];
                    b.CopyTo(longer, 0);
                    if (rng.Next(2) == 0)
                        rng.NextBytes(longer.AsSpan(b.Length));
                    b = longer;
                    break;
                case 9:
                    if (components.Count > 0)
                    {
                        var (offset, size) = components[rng.Next(components.Count)];
                        if (offset >= 0 && size > 0 && offset < b.Length)
                        {
                            var slot = b.AsSpan(offset, Math.Min(size, b.Length - offset));
                            switch (rng.Next(4))
                            {
                                case 0: rng.NextBytes(slot); break;
                                case 1: slot.Fill(0xFF); break;
                                case 2: slot[rng.Next(slot.Length)] ^= (byte)(1 << rng.Next(8)); break;
                                default: slot[rng.Next(slot.Length)] = (byte)rng.Next(256); break;
                            }
                        }
                    }
                    break;
                case 10:
                    if (b.Length >= 8)
                        b[rng.Next(8)] = (byte)rng.Next(256); // FCW, FSW, FTW (abridged), FOP
                    break;
                default:
                    if (b.Length > 0)
                    {
                        for (int r = rng.Next(1, 9); r > 0; r--)
                            b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                    }
                    break;
            }
        }
        return b;
    }

    private static void Mutate64(Random rng, byte[] b, int at)
    {
        if (b.Length < at + 8)
            return;
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));
        v = rng.Next(6) switch
        {
            0 => (ulong)rng.NextInt64() | (rng.Next(2) == 0 ? 1UL << 63 : 0),
            1 => v ^ (1UL << rng.Next(64)),
            2 => v ^ (1UL << 63),
            3 when b.Length >= 528 => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at == 512 ? 520 : 512)) ^ (at == 520 ? 1UL << 63 : 0),
            4 => rng.Next(2) == 0 ? 0 : ulong.MaxValue,
            _ => v | 1UL << rng.Next(64),
        };
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
    }

    private static void Mutate32(Random rng, byte[] b, int at, uint[] specials)
    {
        if (b.Length < at + 4)
            return;
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
        v = rng.Next(3) switch
        {
            0 => specials[rng.Next(specials.Length)],
            1 => v ^ (1u << rng.Next(32)),
            _ => (uint)rng.NextInt64(),
        };
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
    }
}
