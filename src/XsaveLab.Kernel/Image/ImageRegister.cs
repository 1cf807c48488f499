namespace XsaveLab.Kernel.Image;

/// <summary>A piece of a register: <see cref="Bytes"/> bytes at <see cref="Offset"/> in component
/// <see cref="Component"/> (for x87 and SSE: the offset in the legacy region, SDM Vol. 1 §10.5.1 table 10-2; for
/// the others: from the component's start). A register's value is its parts in order, low part first.</summary>
public readonly record struct RegisterPart(int Component, int Offset, int Bytes);

/// <summary>A register as an image holds it: the lower-case name (<c>xmm3</c>, <c>zmm17</c>, <c>pl3_ssp</c>), its
/// width and the parts it is assembled from (YMM0–15 = XMM + YMM_Hi128; ZMM0–15 = XMM + YMM_Hi128 + ZMM_Hi256;
/// SDM Vol. 1 §13.5.2–13.5.5).</summary>
public sealed record ImageRegister(string Name, int Bits, IReadOnlyList<RegisterPart> Parts)
{
    public int Bytes => (Bits + 7) / 8;

    /// <summary>Components the register draws on.</summary>
    public ulong Components => Parts.Aggregate(0UL, (m, p) => m | 1UL << p.Component);
}

/// <summary>Every register an XSAVE image can hold, derived from the registers of <see cref="XFeatureTable"/>
/// (the one list of names, widths and offsets): each table register under its lower-case name, except that the
/// upper halves are shown as part of the whole register (<c>YMMn_Hi128</c> → <c>ymmN</c>, <c>ZMMn_Hi256</c> →
/// <c>zmmN</c>), <c>IA32_PASID</c> is <c>pasid</c>, and TILECFG is also shown field by field (SDM Vol. 1 §3.2
/// "AMX" / Vol. 2 LDTILECFG: palette_id byte 0, start_row byte 1, colsb[i] u16 at 16 + 2i, rows[i] byte at 48 + i)
/// as <c>tilecfg.palette</c>, <c>tilecfg.start_row</c>, <c>tilecfg.tmmN.rows</c>, <c>tilecfg.tmmN.colsb</c>.</summary>
public static class ImageRegisters
{
    private const string Hi128 = "_Hi128", Hi256 = "_Hi256", MsrPrefix = "IA32_";
    private const int TileCount = 8, ColsbOffset = 16, RowsOffset = 48;

    /// <summary>All registers, in component then table order.</summary>
    public static readonly IReadOnlyList<ImageRegister> All = Build();

    private static readonly Dictionary<string, ImageRegister> ByName =
        All.ToDictionary(r => r.Name, StringComparer.OrdinalIgnoreCase);

    public static ImageRegister? Find(string name) => ByName.GetValueOrDefault(name);

    private static List<ImageRegister> Build()
    {
        var list = new List<ImageRegister>();
        var xmm = XFeatureTable.Get(XFeature.Sse).Registers.Where(r => r.Name.StartsWith("XMM", StringComparison.Ordinal)).ToArray();
        var ymmHi = XFeatureTable.Get(XFeature.Ymm).Registers;
        foreach (var f in XFeatureTable.All)
        {
            foreach (var r in f.Registers)
            {
                RegisterPart Own() => new(f.Number, r.Offset, r.Bytes);
                if (r.Name.EndsWith(Hi128, StringComparison.Ordinal))
                {
                    int n = Index(r.Name, "YMM", Hi128);
                    list.Add(new($"ymm{n}", 256, [new(1, xmm[n].Offset, xmm[n].Bytes), Own()]));
                }
                else if (r.Name.EndsWith(Hi256, StringComparison.Ordinal))
                {
                    int n = Index(r.Name, "ZMM", Hi256);
                    list.Add(new($"zmm{n}", 512, [new(1, xmm[n].Offset, xmm[n].Bytes), new(2, ymmHi[n].Offset, ymmHi[n].Bytes), Own()]));
                }
                else
                {
                    string name = r.Name.StartsWith(MsrPrefix, StringComparison.Ordinal) ? r.Name[MsrPrefix.Length..] : r.Name;
                    list.Add(new(name.ToLowerInvariant(), r.Bits, [Own()]));
                }
            }
            if (f.Number == (int)XFeature.XtileCfg)
            {
                list.Add(new("tilecfg.palette", 8, [new(f.Number, 0, 1)]));
                list.Add(new("tilecfg.start_row", 8, [new(f.Number, 1, 1)]));
                for (int t = 0; t < TileCount; t++)
                {
                    list.Add(new($"tilecfg.tmm{t}.rows", 8, [new(f.Number, RowsOffset + t, 1)]));
                    list.Add(new($"tilecfg.tmm{t}.colsb", 16, [new(f.Number, ColsbOffset + 2 * t, 2)]));
                }
            }
        }
        return list;
    }

    private static int Index(string name, string prefix, string suffix) =>
        int.Parse(name.AsSpan(prefix.Length, name.Length - prefix.Length - suffix.Length), CultureInfo.InvariantCulture);

    /// <summary>A little-endian value as one lower-case hex number of the register's full width, most
    /// significant digit first (<c>0x</c> and <c>ceil(bits / 4)</c> digits).</summary>
    public static string Hex(ImageRegister register, ReadOnlySpan<byte> littleEndian)
    {
        int digits = (register.Bits + 3) / 4;
        var sb = new StringBuilder(2 + digits).Append("0x");
        for (int d = digits - 1; d >= 0; d--)
        {
            int b = littleEndian[d / 2];
            sb.Append("0123456789abcdef"[(d & 1) == 0 ? b & 0xF : b >> 4]);
        }
        return sb.ToString();
    }

    /// <summary>Parses <c>0x…</c> (or bare) hex into <paramref name="register"/>'s width, little-endian; null when the
    /// text is not hex or does not fit.</summary>
    public static byte[]? ParseHex(ImageRegister register, string text)
    {
        var s = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text.AsSpan(2) : text.AsSpan();
        s = s.TrimStart('0');
        if (s.Length > (register.Bits + 3) / 4)
            return null;
        var value = new byte[register.Bytes];
        for (int d = 0; d < s.Length; d++)
        {
            int v = HexDigit(s[s.Length - 1 - d]);
            if (v < 0)
                return null;
            value[d / 2] |= (byte)((d & 1) == 0 ? v : v << 4);
        }
        int spare = register.Bytes * 8 - register.Bits;
        return spare > 0 && (value[^1] >> (8 - spare)) != 0 ? null : value;
    }

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
