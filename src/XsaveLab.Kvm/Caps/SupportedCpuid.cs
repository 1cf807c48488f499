namespace XsaveLab.Kvm.Caps;

/// <summary>One KVM_GET_SUPPORTED_CPUID entry with the register bits the model computes (others are reported 0).</summary>
public readonly record struct CpuidEntry(uint Function, uint Index, uint Flags, uint Eax, uint Ebx, uint Ecx, uint Edx)
{
    /// <summary>KVM_CPUID_FLAG_SIGNIFCANT_INDEX.</summary>
    public const uint SignificantIndex = 1;

    public CpuidLeaf ToLeaf() => new(Function, Index, Eax, Ebx, Ecx, Edx);
}

/// <summary>The XSAVE-relevant part of KVM_GET_SUPPORTED_CPUID: leaf 1 XSAVE/AVX, leaf 7 MPX/AVX-512/PKU/CET/AMX bits,
/// all of leaf 0xD, AMX palette leaves 0x1D/0x1E.</summary>
/// <remarks><c>__do_cpuid_func()</c> case 0xD (arch/x86/kvm/cpuid.c, v6.17; docs/linux-fpu-core.md, "Guest FPU and KVM").</remarks>
public static class SupportedCpuid
{
    /// <summary>Bits of leaf 1 / leaf 7 the model predicts; comparisons with a live table use these masks.</summary>
    public static (uint Eax, uint Ebx, uint Ecx, uint Edx) ModelledBits(uint function, uint index) => (function, index) switch
    {
        (1, 0) => (0, 0, (1u << 26) | (1u << 27) | (1u << 28), 0),
        (7, 0) => (0, (1u << 14) | (1u << 16), (1u << 3) | (1u << 4) | (1u << 7), (1u << 20) | (1u << 22) | (1u << 24) | (1u << 25)),
        (0xD, _) or (0x1D, _) or (0x1E, _) => (~0u, ~0u, ~0u, ~0u),
        _ => (0, 0, 0, 0),
    };

    public static IReadOnlyList<CpuidEntry> Compute(KvmCaps caps, ulong guestGroupPerm)
    {
        var cpu = caps.Cpu;
        var list = new List<CpuidEntry>();
        var l1 = cpu.Leaf(1);
        uint ecx1 = caps.Host.XsaveEnabled ? l1.Ecx & ((1u << 26) | (1u << 28)) : 0; // OSXSAVE never reported
        if (caps.Flavour.PruneLeaf1Xsave)
            ecx1 = 0;
        list.Add(new CpuidEntry(1, 0, 0, 0, 0, ecx1, 0));

        var l7 = cpu.Leaf(7, 0);
        uint ebx7 = l7.Ebx & (1u << 16);
        if ((caps.SupportedXcr0 & XFeatureMasks.Mpx) == XFeatureMasks.Mpx)
            ebx7 |= l7.Ebx & (1u << 14);
        uint ecx7 = (cpu.Has(CpuFeature.Pku) ? 1u << 3 : 0) | (caps.Shstk ? 1u << 7 : 0);
        uint edx7 = (caps.Ibt ? 1u << 20 : 0) | (l7.Edx & ((1u << 22) | (1u << 24) | (1u << 25)));
        if (caps.Flavour.PruneLeaf7)
            (ebx7, ecx7, edx7) = (0, ecx7 & (1u << 7), edx7 & (1u << 20));
        list.Add(new CpuidEntry(7, 0, CpuidEntry.SignificantIndex, 0, ebx7, ecx7, edx7));

        if (cpu.Leaf(0).Eax >= 0xD)
            AddLeafD(caps, guestGroupPerm, list);

        if ((l7.Edx & (1u << 24)) != 0)
        {
            for (uint sub = 0; sub <= 1; sub++)
                if (cpu.TryGetLeaf(0x1D, sub, out var t))
                    list.Add(new CpuidEntry(0x1D, sub, CpuidEntry.SignificantIndex, t.Eax, t.Ebx, t.Ecx, t.Edx));
            if (cpu.TryGetLeaf(0x1E, 0, out var u))
                list.Add(new CpuidEntry(0x1E, 0, CpuidEntry.SignificantIndex, u.Eax, u.Ebx, u.Ecx, u.Edx));
        }
        return list;
    }

    private static void AddLeafD(KvmCaps caps, ulong guestGroupPerm, List<CpuidEntry> list)
    {
        var cpu = caps.Cpu;
        ulong xcr0 = caps.FilteredXcr0(guestGroupPerm);
        ulong xss = caps.SupportedXss;
        var d0 = cpu.Leaf(0xD, 0);
        int std = caps.XstateRequiredSize(xcr0, false);
        list.Add(new CpuidEntry(0xD, 0, CpuidEntry.SignificantIndex, d0.Eax & (uint)xcr0, (uint)std, (uint)std, d0.Edx & (uint)(xcr0 >> 32)));
        if (xcr0 == 0)
            return;

        var d1 = cpu.Leaf(0xD, 1);
        uint eax1 = caps.D1Eax;
        uint ebx1 = (eax1 & 0xA) != 0 ? (uint)caps.XstateRequiredSize(xcr0 | xss, true) : 0;
        list.Add(new CpuidEntry(0xD, 1, CpuidEntry.SignificantIndex, eax1, ebx1, d1.Ecx & (uint)xss, d1.Edx & (uint)(xss >> 32)));

        for (uint i = 2; i < 64; i++)
        {
            ulong bit = 1UL << (int)i;
            bool user = (xcr0 & bit) != 0, sup = (xss & bit) != 0;
            if (!user && !sup)
                continue;
            var e = cpu.Leaf(0xD, i);
            if (e.Eax == 0 || ((e.Ecx & 1) != 0) != sup)
                continue; // WARN_ON_ONCE in KVM
            uint ecx = caps.Xfd ? e.Ecx : e.Ecx & ~4u;
            list.Add(new CpuidEntry(0xD, i, CpuidEntry.SignificantIndex, e.Eax, e.Ebx, ecx, 0));
        }
    }
}
