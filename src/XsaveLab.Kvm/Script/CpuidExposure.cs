namespace XsaveLab.Kvm.Script;

/// <summary>Which XSAVE features a VMM puts into the guest CPUID it builds from KVM_GET_SUPPORTED_CPUID. The
/// opt-in features (AMX, CET) are included only when named; the others are kept unless named with '-'
/// (e.g. <c>expose=amx,cet</c>, <c>expose=-avx,-avx512</c>, <c>expose=tilecfg,-avx512</c>, <c>expose=all</c>, <c>expose=none</c>).</summary>
public sealed record CpuidExposure(ulong Xcr0Bits, ulong Hidden, bool Cet)
{
    /// <summary>Opt-in XCR0 features: a VMM exposes them deliberately.</summary>
    public const ulong OptIn = XFeatureMasks.Xtile;

    public static readonly CpuidExposure All = new(ulong.MaxValue, 0, true);

    /// <summary>The XCR0 groups a list can hide with '-', by name.</summary>
    public static readonly IReadOnlyList<(string Name, ulong Mask)> Hideable =
    [
        ("avx", XFeatureMasks.Ymm), ("mpx", XFeatureMasks.Mpx), ("avx512", XFeatureMasks.Avx512),
        ("pkru", XFeatureMasks.Pkru), ("apx", XFeatureMasks.Apx),
    ];

    public static CpuidExposure? Parse(string list)
    {
        ulong bits = 0, hidden = 0;
        bool cet = false;
        foreach (var raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            bool hide = raw.StartsWith('-');
            string w = raw.TrimStart('-').ToLowerInvariant();
            ulong m;
            switch (w)
            {
                case "all" when !hide: bits = ulong.MaxValue; cet = true; continue;
                case "none" or "base" when !hide: continue;
                case "cet": if (hide) cet = false; else cet = true; continue;
                case "amx": m = XFeatureMasks.Xtile; break;
                case "tilecfg": m = XFeatureMasks.XtileCfg; break;
                case "tiledata": m = XFeatureMasks.XtileData; break;
                default:
                    if (Hideable.FirstOrDefault(h => h.Name == w) is not { Name: not null } g)
                        return null;
                    m = g.Mask;
                    break;
            }
            if (hide) hidden |= m; else bits |= m;
        }
        return new CpuidExposure(bits, hidden, cet);
    }

    /// <summary>The supported table cut to the chosen features (0xD.0 EAX/EDX, the matching 0xD.i sub-leaves,
    /// CET: SHSTK/IBT and 0xD.1 ECX bits 11/12).</summary>
    public IReadOnlyList<CpuidEntry> Apply(IReadOnlyList<CpuidEntry> supported)
    {
        ulong keep = (~OptIn | Xcr0Bits) & ~Hidden | XFeatureMasks.FpSse;
        ulong keepXss = Cet ? ulong.MaxValue : ~(XFeatureMasks.CetUser | XFeatureMasks.CetKernel);
        var list = new List<CpuidEntry>();
        foreach (var e in supported)
        {
            var x = e;
            if (e.Function == 0xD && e.Index == 0)
                x = e with { Eax = e.Eax & (uint)keep, Edx = e.Edx & (uint)(keep >> 32) };
            else if (e.Function == 0xD && e.Index == 1)
                x = e with { Ecx = e.Ecx & (uint)keepXss, Edx = e.Edx & (uint)(keepXss >> 32) };
            else if (e.Function == 0xD && e.Index >= 2)
            {
                bool sup = (e.Ecx & 1) != 0;
                ulong bit = 1UL << (int)e.Index;
                if ((sup ? keepXss & bit : keep & bit) == 0)
                    continue;
            }
            else if (e.Function == 7 && e.Index == 0 && !Cet)
                x = e with { Ecx = e.Ecx & ~(1u << 7), Edx = e.Edx & ~(1u << 20) };
            list.Add(x);
        }
        return list;
    }
}

/// <summary>A change a script applies to the last XSAVE image before KVM_SET_XSAVE (negative tests).</summary>
public sealed record XsaveMutation(string Field, ulong Value, int Offset, bool Or)
{
    public static XsaveMutation? Parse(string s)
    {
        bool or = s.Contains("|=", StringComparison.Ordinal);
        var kv = s.Split(or ? "|=" : "=", 2);
        if (kv.Length != 2 || !Vm.GuestOp.Num(kv[1], out var v))
            return null;
        string f = kv[0].ToLowerInvariant();
        if (f.StartsWith("byte@", StringComparison.Ordinal))
            return int.TryParse(f[5..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var off) && v <= 0xFF ? new XsaveMutation("byte", v, off, or) : null;
        return f switch
        {
            "xstate_bv" => new(f, v, XsaveOffsets.XstateBv, or),
            "xcomp_bv" => new(f, v, XsaveOffsets.XcompBv, or),
            "mxcsr" => v <= uint.MaxValue ? new(f, v, XsaveOffsets.Mxcsr, or) : null,
            _ => null,
        };
    }

    /// <summary>Bytes the change writes at <see cref="Offset"/>.</summary>
    public int Width => Field switch { "byte" => 1, "mxcsr" => 4, _ => 8 };

    /// <summary>Whether the change lies inside an image of <paramref name="length"/> bytes.</summary>
    public bool FitsIn(int length) => (long)Offset + Width <= length;

    /// <summary>Writes the change; false (and <paramref name="img"/> untouched) when it lies past the image.</summary>
    public bool Apply(Span<byte> img)
    {
        if (!FitsIn(img.Length))
            return false;
        switch (Field)
        {
            case "byte":
                img[Offset] = (byte)(Or ? img[Offset] | (byte)Value : (byte)Value);
                break;
            case "mxcsr":
                uint m = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(img[Offset..]);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(img[Offset..], Or ? m | (uint)Value : (uint)Value);
                break;
            default:
                ulong q = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(img[Offset..]);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(img[Offset..], Or ? q | Value : Value);
                break;
        }
        return true;
    }
}
