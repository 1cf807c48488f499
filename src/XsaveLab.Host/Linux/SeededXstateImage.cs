namespace XsaveLab.Host.Linux;

/// <summary>One difference between an expected and an observed standard-format XSAVE image.</summary>
public readonly record struct ImageDifference(string Field, int Offset, int Length, string Expected, string Actual)
{
    public override string ToString() => $"{Field} @{Offset}+{Length}: expected {Expected}, actual {Actual}";
}

/// <summary>A standard-format XSAVE image with register values derived from a seed, for a child process
/// to load with XRSTOR and a parent to compare with what the kernel reports (ptrace, core notes).</summary>
/// <remarks>Loaded components: x87, SSE and every extended user component whose arbitrary contents are
/// architecturally harmless to load — AVX, MPX bound registers, AVX-512, APX. Never PKRU (a random value
/// could deny access to key 0), never MPX BNDCSR (reserved bits), never AMX (TILECFG validity, XFD).
/// Legacy fields are kept valid: FCW masks all exceptions, FSW/FOP/FIP/FDP are zero, MXCSR only has
/// defined bits (SDM Vol.1 §10.5.1). Offsets and sizes come from <see cref="UserXstateLayout"/>.</remarks>
public sealed class SeededXstateImage
{
    /// <summary>Components a seed fills with arbitrary values.</summary>
    public const ulong LoadableFeatures = XFeatureMasks.FpSse | XFeatureMasks.Ymm | XFeatureMasks.BndRegs
        | XFeatureMasks.Avx512 | XFeatureMasks.Apx;

    private SeededXstateImage(ulong seed, UserXstateLayout layout, byte[] image, ulong loaded, ulong restoreMask)
    {
        Seed = seed;
        Layout = layout;
        Image = image;
        LoadedFeatures = loaded;
        RestoreMask = restoreMask;
    }

    public ulong Seed { get; }
    public UserXstateLayout Layout { get; }

    /// <summary>The standard-format image, <see cref="UserXstateLayout.Size"/> bytes.</summary>
    public byte[] Image { get; }

    /// <summary>XSTATE_BV of the image.</summary>
    public ulong LoadedFeatures { get; }

    /// <summary>RFBM for XRSTOR: every user feature except PKRU and dynamic (XFD-managed) ones, so
    /// components not loaded are put in their init state.</summary>
    public ulong RestoreMask { get; }

    public static SeededXstateImage Build(ulong seed, UserXstateLayout layout) => Build(seed, layout, ~0UL);

    /// <summary>As <see cref="Build(ulong, UserXstateLayout)"/>, loading only components in
    /// <paramref name="loadMask"/> (e.g. a guest's XCR0); x87 and SSE are always loaded.</summary>
    public static SeededXstateImage Build(ulong seed, UserXstateLayout layout, ulong loadMask)
    {
        var rng = new SplitMix64(seed);
        var img = new byte[layout.Size];
        ulong loaded = layout.Features & LoadableFeatures & (loadMask | XFeatureMasks.FpSse);
        ulong restore = layout.Features & ~(XFeatureMasks.Pkru | XFeatureMasks.UserDynamic);

        if ((loaded & XFeatureMasks.Fp) != 0)
        {
            ulong r = rng.Next();
            // FCW: exceptions masked, bit 6 reads as 1, precision (8..9) and rounding (10..11) from the seed.
            BinaryPrimitives.WriteUInt16LittleEndian(img.AsSpan(0), (ushort)(0x007F | (r & 0x0F00)));
            img[4] = (byte)(r >> 16); // abridged FTW
            for (int i = 0; i < XsaveOffsets.StCount; i++)
                rng.Fill(img.AsSpan(XsaveOffsets.St(i), 10));
        }
        // MXCSR: flags 0..5, DAZ 6, exception masks 7..12 (all set), RC 13..14, FZ 15.
        uint mxcsr = 0x1F80 | (uint)(rng.Next() & 0xE07F);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(XsaveOffsets.Mxcsr), mxcsr);
        if ((loaded & XFeatureMasks.Sse) != 0)
            rng.Fill(img.AsSpan(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize));
        for (int i = 2; i < 64; i++)
        {
            if ((loaded >> i & 1) == 0)
                continue;
            var (off, size) = layout.Component(i);
            rng.Fill(img.AsSpan(off, size));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv), loaded);
        return new SeededXstateImage(seed, layout, img, loaded, restore);
    }

    /// <summary>Compares a standard-format image the kernel produced for the thread that loaded this
    /// image (NT_X86_XSTATE from ptrace or a core note, formatted by <c>copy_xstate_to_uabi_buf</c>).
    /// Expected: identical register bytes; MXCSR_MASK is whatever the CPU reports (XSAVE stores the
    /// processor's mask, docs/host-interfaces.md item 6); sw_reserved holds the user features at 464
    /// then zeros; XSTATE_BV equals the loaded features apart from PKRU; PKRU is not compared; every
    /// component not loaded is zero (init).</summary>
    public IReadOnlyList<ImageDifference> CompareWith(ReadOnlySpan<byte> actual) => CompareWith(actual, null);

    /// <summary>As <see cref="CompareWith(ReadOnlySpan{byte})"/>, but the extended components of
    /// <paramref name="actual"/> are found where <paramref name="actualLayout"/> (an NT_X86_XSAVE_LAYOUT
    /// note of the same core) says, not at this host's offsets; its length may then differ.</summary>
    public IReadOnlyList<ImageDifference> CompareWith(ReadOnlySpan<byte> actual, IReadOnlyList<XfeatComponent>? actualLayout)
    {
        var diffs = new List<ImageDifference>();
        if (actualLayout is null && actual.Length != Image.Length)
            diffs.Add(new("length", 0, 0, Image.Length.ToString(), actual.Length.ToString()));
        int n = Math.Min(actual.Length, Image.Length);
        if (n < XsaveOffsets.ExtendedStart)
            return diffs;

        void Range(string field, int off, int len, ReadOnlySpan<byte> expected, ReadOnlySpan<byte> act)
        {
            if (off + len > n)
                return;
            if (!expected.Slice(off, len).SequenceEqual(act.Slice(off, len)))
                diffs.Add(new(field, off, len, Convert.ToHexStringLower(expected.Slice(off, len)), Convert.ToHexStringLower(act.Slice(off, len))));
        }

        Range("legacy x87 control/status", XsaveOffsets.Fcw, XsaveOffsets.FpEnvSize, Image, actual);
        Range("MXCSR", XsaveOffsets.Mxcsr, 4, Image, actual);
        Range("legacy ST0-7, XMM0-15, padding", XsaveOffsets.StSpace, XsaveOffsets.SwReserved - XsaveOffsets.StSpace, Image, actual);
        Span<byte> sw = stackalloc byte[48];
        BinaryPrimitives.WriteUInt64LittleEndian(sw, Layout.Features);
        var swExpected = new byte[Image.Length];
        sw.CopyTo(swExpected.AsSpan(XsaveOffsets.SwReserved));
        Range($"sw_reserved (user xfeatures at {XsaveOffsets.SwReserved})", XsaveOffsets.SwReserved, XsaveOffsets.SwReservedSize, swExpected, actual);

        ulong xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(actual[XsaveOffsets.XstateBv..]);
        if ((xstateBv & ~XFeatureMasks.Pkru) != LoadedFeatures)
            diffs.Add(new("XSTATE_BV (without PKRU)", XsaveOffsets.XstateBv, 8, $"0x{LoadedFeatures:x}", $"0x{xstateBv & ~XFeatureMasks.Pkru:x}"));
        Range("XCOMP_BV and reserved header", XsaveOffsets.XcompBv, XsaveOffsets.ExtendedStart - XsaveOffsets.XcompBv, Image, actual);

        for (int i = 2; i < 64; i++)
        {
            if (!Layout.Has(i) || i == 9)
                continue;
            var (off, size) = Layout.Component(i);
            if (actualLayout is null)
            {
                Range($"component {i}", off, size, Image, actual);
                continue;
            }
            var rec = actualLayout.FirstOrDefault(r => r.Type == (uint)i);
            if (rec.Size != (uint)size || rec.Offset + (long)size > actual.Length)
            {
                diffs.Add(new($"component {i} layout record", off, size, $"size {size}", rec.Size == 0 ? "absent" : $"size {rec.Size} at {rec.Offset}"));
                continue;
            }
            if (!Image.AsSpan(off, size).SequenceEqual(actual.Slice((int)rec.Offset, size)))
                diffs.Add(new($"component {i} (at {rec.Offset} per layout note)", off, size, Convert.ToHexStringLower(Image.AsSpan(off, size)), Convert.ToHexStringLower(actual.Slice((int)rec.Offset, size))));
        }
        return diffs;
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): stable across runtimes, unlike System.Random.</summary>
    private struct SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }

        public void Fill(Span<byte> dest)
        {
            for (int i = 0; i < dest.Length; i += 8)
            {
                ulong v = Next();
                for (int j = 0; j < 8 && i + j < dest.Length; j++)
                    dest[i + j] = (byte)(v >> (8 * j));
            }
        }
    }
}
