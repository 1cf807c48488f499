namespace XsaveLab.Arch.Tests.Machine;

/// <summary>Profiles for the instruction-model tests: synthetic CPUs built from CPUID leaves (always
/// available), the shared catalog dumps and the live processor.</summary>
internal static class TestCpus
{
    // Intel-style components: (number, size, standard offset or -1 for supervisor, ECX flags).
    private static readonly (int N, uint Size, int Std, uint Ecx)[] IntelComponents =
    [
        (2, 256, 576, 0), (3, 64, 960, 0), (4, 64, 1024, 0), (5, 64, 1088, 0), (6, 512, 1152, 0), (7, 1024, 1664, 0),
        (8, 128, -1, 1), (9, 8, 2688, 0), (10, 8, -1, 1), (11, 16, -1, 1), (12, 24, -1, 1), (15, 808, -1, 1),
        (17, 64, 2752, 2), (18, 8192, 2816, 6),
    ];

    /// <summary>A synthetic Intel processor: XCR0 bits <paramref name="xcr0"/>, IA32_XSS bits <paramref name="xss"/>,
    /// CPUID(0xD,1).EAX = <paramref name="d1Eax"/> (bit 0 XSAVEOPT, 1 XSAVEC, 2 XGETBV1, 3 XSAVES, 4 XFD).</summary>
    public static CpuProfile Synthetic(string name, ulong xcr0, ulong xss, uint d1Eax, bool xsave = true,
        CpuVendor vendor = CpuVendor.Intel, bool xsaveErPtr = false)
    {
        var (b, d, c) = vendor == CpuVendor.Amd ? (0x68747541u, 0x69746E65u, 0x444D4163u) : (0x756E6547u, 0x49656E69u, 0x6C65746Eu);
        var leaves = new List<CpuidLeaf>
        {
            new(0, 0, 0xD, b, c, d),
            new(1, 0, 0x000806F8, 0, xsave ? 1u << 26 | 1u << 28 : 0, 1u << 0 | 1u << 24 | 1u << 25),
            // CET in IA32_XSS comes with both CET features (CPUID.7.0:ECX[7] CET_SS, EDX[20] CET_IBT), as on every
            // Intel part that has it.
            new(7, 0, 0, 0, (xss & XFeatureMasks.CetUser) != 0 ? 1u << 7 : 0, (xss & XFeatureMasks.CetUser) != 0 ? 1u << 20 : 0),
            new(0x80000000, 0, 0x80000008, 0, 0, 0),
            new(0x80000008, 0, 0x3030, xsaveErPtr ? 4u : 0, 0, 0),
        };
        if (xsave)
        {
            int stdMax = 576;
            foreach (var comp in IntelComponents)
                if ((xcr0 >> comp.N & 1) != 0 && comp.Std >= 0)
                    stdMax = Math.Max(stdMax, comp.Std + (int)comp.Size);
            leaves.Add(new(0xD, 0, (uint)xcr0, (uint)stdMax, (uint)stdMax, (uint)(xcr0 >> 32)));
            leaves.Add(new(0xD, 1, d1Eax, 0, (uint)xss, (uint)(xss >> 32)));
            foreach (var comp in IntelComponents)
                if (((xcr0 | xss) >> comp.N & 1) != 0)
                    leaves.Add(new(0xD, (uint)comp.N, comp.Size, comp.Std < 0 ? 0 : (uint)comp.Std, (d1Eax & 16) != 0 ? comp.Ecx : comp.Ecx & 3, 0));
        }
        return new CpuProfile(name, "synthetic", leaves);
    }

    /// <summary>Sapphire-Rapids-like: AVX-512, PKRU, AMX (aligned, XFD-capable tile data), PT/PASID/CET/LBR in XSS, all of XSAVEOPT..XFD.</summary>
    public static CpuProfile Spr() => Synthetic("spr-like", 0x602E7, 0x9D00, 0x1F);

    /// <summary>Skylake-client-like with MPX (standard-format hole at 832..959) and no XSS.</summary>
    public static CpuProfile Mpx() => Synthetic("mpx-like", 0x21F, 0x100, 0xF);

    /// <summary>Haswell-like: XSAVE and XSAVEOPT only.</summary>
    public static CpuProfile Haswell() => Synthetic("hsw-like", 0x7, 0, 0x1);

    public static CpuProfile NoXsave() => Synthetic("no-xsave", 0, 0, 0, xsave: false);

    public static CpuProfile OldAmd() => Synthetic("amd-no-xsaveerptr", 0x7, 0, 0xF, vendor: CpuVendor.Amd, xsaveErPtr: false);

    /// <summary>The processor running the tests, from CPUID (null when not x86).</summary>
    public static CpuProfile? Host()
    {
        if (!X86Base.IsSupported)
            return null;
        var leaves = new List<CpuidLeaf>();
        void Add(uint leaf, uint sub)
        {
            var (a, b, c, d) = X86Base.CpuId((int)leaf, (int)sub);
            leaves.Add(new(leaf, sub, (uint)a, (uint)b, (uint)c, (uint)d));
        }
        Add(0, 0);
        uint max = leaves[0].Eax;
        for (uint l = 1; l <= Math.Min(max, 0x1Eu); l++)
        {
            if (l == 0xD)
                for (uint s = 0; s < 64; s++)
                    Add(l, s);
            else if (l == 7)
            {
                Add(7, 0);
                Add(7, 1);
            }
            else
                Add(l, 0);
        }
        Add(0x80000000, 0);
        uint emax = leaves[^1].Eax;
        for (uint l = 0x80000001; l <= Math.Min(emax, 0x80000008u); l++)
            Add(l, 0);
        return new CpuProfile("host", "cpuid", leaves);
    }

    /// <summary><c>&lt;repo&gt;/../shared/cpuid-dumps</c>, or null when absent.</summary>
    public static string? DumpDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "XsaveLab.slnx")))
            {
                var d = Path.Combine(dir.FullName, "..", "shared", "cpuid-dumps");
                return Directory.Exists(d) ? Path.GetFullPath(d) : null;
            }
        return null;
    }

    public static IEnumerable<CpuProfile> Dumps()
    {
        var dir = DumpDirectory();
        if (dir is null)
            yield break;
        foreach (var f in Directory.GetFiles(dir, "*.txt").Order())
            yield return CpuidTextReader.ReadFile(f);
    }

    /// <summary>Synthetic profiles, every dump with XSAVE, and the host.</summary>
    public static IEnumerable<CpuProfile> All()
    {
        yield return Spr();
        yield return Mpx();
        yield return Haswell();
        yield return OldAmd();
        foreach (var p in Dumps())
            if (p.HasXsave)
                yield return p;
        if (Host() is { HasXsave: true } h)
            yield return h;
    }

    /// <summary>A CPU at CPL 0 with CR4.OSXSAVE set, XCR0 = every supported user bit, IA32_XSS = every supported bit.</summary>
    public static XsaveCpu Booted(CpuProfile p, XsaveCpuOptions? options = null)
    {
        var cpu = new XsaveCpu(p, options) { OsXsave = true, Cpl = 0 };
        ulong xcr0 = p.SupportedXcr0;
        if ((xcr0 & XFeatureMasks.Mpx) != XFeatureMasks.Mpx)
            xcr0 &= ~XFeatureMasks.Mpx;
        var f = cpu.Xsetbv(0, xcr0);
        if (f.IsFault)
            throw new InvalidOperationException($"{p.Name}: XSETBV 0x{xcr0:x}: {f}");
        if (p.HasXsaves)
        {
            f = cpu.Wrmsr(Msr.IA32_XSS, p.SupportedXss);
            if (f.IsFault)
                throw new InvalidOperationException($"{p.Name}: WRMSR XSS: {f}");
        }
        return cpu;
    }

    /// <summary>Keeps random CET_U/CET_S contents within what WRMSR (and so XRSTORS) accepts on
    /// <paramref name="p"/>: canonical, 4-byte-aligned shadow-stack pointers, no reserved or contradictory
    /// control bits, no bits of a CET feature the profile does not enumerate.</summary>
    public static void ValidCet(byte[] data, int component, CpuProfile p)
    {
        for (int at = 0; at + 8 <= data.Length; at += 8)
        {
            ulong v = BitConverter.ToUInt64(data, at) & 0x0000_7FFF_FFFF_FFFCUL;
            if (component == (int)XFeature.CetUser && at == 0)
            {
                v &= ~0xBC0UL; // IA32_U_CET: reserved 9:6, and TRACKER off so SUPPRESS may stay
                if (!p.Has(CpuFeature.Ibt))
                    v &= ~XsaveDataRules.CetIbtBits;
                if (!p.Has(CpuFeature.Shstk))
                    v &= ~XsaveDataRules.CetShstkBits;
            }
            BitConverter.TryWriteBytes(data.AsSpan(at), v);
        }
    }

    /// <summary>Fills every enabled component with random content (x87 kept to what the unit stores) and puts
    /// the components of <paramref name="initMask"/> back into their initial configuration.</summary>
    public static void Randomize(XsaveCpu cpu, Random rng, ulong initMask)
    {
        ulong enabled = (cpu.Xcr0 | cpu.Xss) & cpu.Enumerated;
        for (int i = 0; i < 63; i++)
        {
            if ((enabled >> i & 1) == 0)
                continue;
            var data = new byte[cpu.Read(i).Length];
            rng.NextBytes(data);
            if (i == 0)
            {
                data[5] = 0;
                data[7] &= 7;
                for (int st = 0; st < 8; st++)
                    Array.Clear(data, 32 + st * 16 + 10, 6);
            }
            if (i == (int)XFeature.Pkru)
                Array.Clear(data, 4, data.Length - 4);
            if (i is (int)XFeature.CetUser or (int)XFeature.CetKernel)
                ValidCet(data, i, cpu.Profile);
            var f = cpu.Write(i, data);
            if (f.IsFault)
                throw new InvalidOperationException($"write {i}: {f}");
        }
        cpu.Mxcsr = (uint)rng.Next(0, 0x40000) & cpu.MxcsrMask;
        for (int i = 0; i < 63; i++)
            if (((initMask & enabled) >> i & 1) != 0)
                cpu.Init(i);
    }
}
