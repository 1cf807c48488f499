namespace XsaveLab.Arch.Cpuid;

/// <summary>A processor as far as XSAVE is concerned: the CPUID leaves that matter and the facts derived
/// from them. Immutable; many profiles can be used side by side.</summary>
/// <remarks>Leaves kept: 0x0, 0x1, 0x7.0, 0x7.1, all of 0xD, 0x1D/0x1E (AMX palette), and the extended
/// leaves 0x80000000..0x80000004 (brand) and 0x80000008 (AMD XSaveErPtr).</remarks>
public sealed class CpuProfile
{
    private readonly FrozenDictionary<(uint, uint), CpuidLeaf> _leaves;
    private readonly XComponent?[] _components = new XComponent?[64];

    // CPUID bit of every CpuFeature, decoded once: Has() sits on the instruction model's hot paths.
    private readonly bool[] _has = new bool[256];

    public CpuProfile(string name, string source, IEnumerable<CpuidLeaf> leaves)
    {
        Name = name;
        Source = source;
        var dict = new Dictionary<(uint, uint), CpuidLeaf>();
        foreach (var l in leaves)
            dict[(l.Leaf, l.Subleaf)] = l;
        _leaves = dict.ToFrozenDictionary();
        Leaves = dict.Values.OrderBy(l => l.Leaf).ThenBy(l => l.Subleaf).ToArray();

        var l0 = Leaf(0);
        Vendor = DecodeVendor(l0.Ebx, l0.Edx, l0.Ecx);
        var sig = Leaf(1).Eax;
        Stepping = (int)(sig & 0xF);
        int baseFamily = (int)((sig >> 8) & 0xF), baseModel = (int)((sig >> 4) & 0xF);
        Family = baseFamily == 0xF ? baseFamily + (int)((sig >> 20) & 0xFF) : baseFamily;
        Model = baseFamily is 0x6 or 0xF ? baseModel | (int)((sig >> 16) & 0xF) << 4 : baseModel;
        Signature = sig;
        Brand = DecodeBrand();

        foreach (var f in Enum.GetValues<CpuFeature>())
            _has[(int)f] = Decode(f);

        HasLeafD = Leaf(0).Eax >= 0xD && _leaves.ContainsKey((0xD, 0)) && Has(CpuFeature.Xsave);
        if (HasLeafD)
        {
            var d0 = Leaf(0xD, 0);
            var d1 = Leaf(0xD, 1);
            SupportedXcr0 = d0.Eax | (ulong)d0.Edx << 32;
            SupportedXss = d1.Ecx | (ulong)d1.Edx << 32;
            for (int i = 2; i < 63; i++)
            {
                if (!_leaves.TryGetValue((0xD, (uint)i), out var c) || c.Eax == 0)
                    continue;
                bool sup = (c.Ecx & 1) != 0;
                _components[i] = new XComponent(i, (int)c.Eax, sup ? null : (int)c.Ebx, sup, (c.Ecx & 2) != 0, (c.Ecx & 4) != 0);
            }
        }
        _components[0] = XComponent.LegacyFp;
        _components[1] = XComponent.LegacySse;
    }

    /// <summary>Short catalog name (e.g. <c>spr</c>) or a name given by the reader.</summary>
    public string Name { get; }

    /// <summary>Where the values came from (a dump file name, "host", …).</summary>
    public string Source { get; }

    public IReadOnlyList<CpuidLeaf> Leaves { get; }
    public CpuVendor Vendor { get; }
    public int Family { get; }
    public int Model { get; }
    public int Stepping { get; }
    public uint Signature { get; }
    public string Brand { get; }

    /// <summary>The CPU has XSAVE (CPUID.1:ECX[26]) and enumerates leaf 0xD.</summary>
    public bool HasLeafD { get; }

    /// <summary>CPUID(0xD,0) EDX:EAX — XCR0 bits the processor supports.</summary>
    public ulong SupportedXcr0 { get; }

    /// <summary>CPUID(0xD,1) EDX:ECX — IA32_XSS bits the processor supports.</summary>
    public ulong SupportedXss { get; }

    public bool HasXsave => HasLeafD;
    public bool HasXsaveopt => HasLeafD && _has[(int)CpuFeature.Xsaveopt];
    public bool HasXsavec => HasLeafD && _has[(int)CpuFeature.Xsavec];
    public bool HasXgetbv1 => HasLeafD && _has[(int)CpuFeature.Xgetbv1];
    public bool HasXsaves => HasLeafD && _has[(int)CpuFeature.Xsaves];
    public bool HasXfd => HasLeafD && _has[(int)CpuFeature.Xfd];

    /// <summary>The leaf, or all zeros when the CPU does not report it (as CPUID does for a sub-leaf past the end).</summary>
    public CpuidLeaf Leaf(uint leaf, uint subleaf = 0) =>
        _leaves.TryGetValue((leaf, subleaf), out var l) ? l : new CpuidLeaf(leaf, subleaf, 0, 0, 0, 0);

    public bool TryGetLeaf(uint leaf, uint subleaf, out CpuidLeaf value) => _leaves.TryGetValue((leaf, subleaf), out value);

    /// <summary>Is the CPUID bit of <paramref name="feature"/> set?</summary>
    public bool Has(CpuFeature feature) => _has[(int)feature];

    private bool Decode(CpuFeature feature)
    {
        if (feature == CpuFeature.None)
            return true;
        var bit = CpuFeatureBits.Of(feature);
        uint max = bit.Leaf >= 0x80000000 ? Leaf(0x80000000).Eax : Leaf(0).Eax;
        if (bit.Leaf > max)
            return false;
        return (Leaf(bit.Leaf, bit.Subleaf).Get(bit.Register) >> bit.Bit & 1) != 0;
    }

    /// <summary>CPUID(0xD,i) for component i, or null when the CPU does not enumerate it (EAX = 0).
    /// Components 0 and 1 always return the fixed legacy-region entries.</summary>
    public XComponent? Component(int i) => (uint)i < 64 ? _components[i] : null;

    /// <summary>Every component the CPU enumerates in XCR0|XSS, ascending.</summary>
    public IEnumerable<XComponent> SupportedComponents()
    {
        ulong all = SupportedXcr0 | SupportedXss;
        for (int i = 0; i < 63; i++)
            if ((all >> i & 1) != 0 && _components[i] is { } c)
                yield return c;
    }

    public override string ToString() => $"{Name} ({Vendor} family 0x{Family:x} model 0x{Model:x}, {Source})";

    private static CpuVendor DecodeVendor(uint ebx, uint edx, uint ecx)
    {
        Span<byte> b = stackalloc byte[12];
        BitConverter.TryWriteBytes(b, ebx);
        BitConverter.TryWriteBytes(b[4..], edx);
        BitConverter.TryWriteBytes(b[8..], ecx);
        return Encoding.ASCII.GetString(b) switch
        {
            "GenuineIntel" => CpuVendor.Intel,
            "AuthenticAMD" => CpuVendor.Amd,
            "HygonGenuine" => CpuVendor.Hygon,
            "CentaurHauls" or "  Shanghai  " => CpuVendor.Zhaoxin,
            _ => CpuVendor.Unknown,
        };
    }

    private string DecodeBrand()
    {
        if (Leaf(0x80000000).Eax < 0x80000004)
            return "";
        var bytes = new byte[48];
        for (uint i = 0; i < 3; i++)
        {
            var l = Leaf(0x80000002 + i);
            BitConverter.TryWriteBytes(bytes.AsSpan((int)i * 16), l.Eax);
            BitConverter.TryWriteBytes(bytes.AsSpan((int)i * 16 + 4), l.Ebx);
            BitConverter.TryWriteBytes(bytes.AsSpan((int)i * 16 + 8), l.Ecx);
            BitConverter.TryWriteBytes(bytes.AsSpan((int)i * 16 + 12), l.Edx);
        }
        return Encoding.ASCII.GetString(bytes).TrimEnd('\0').Trim();
    }
}
