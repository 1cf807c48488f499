namespace XsaveLab.Arch.Cpuid;

/// <summary>Hides CPUID features the way a hypervisor, a BIOS option or a fused-off part does: the named feature
/// bits and their dependents (<see cref="CpuidFeatureDeps"/>) are cleared, and so are the XSAVE components those
/// features gate (the kernel's <c>xsave_cpuid_features[]</c>, <see cref="XFeatureInfo.Gate"/>) in CPUID(0xD,0)
/// EDX:EAX / (0xD,1) EDX:ECX with their sub-leaves. The size fields of 0xD.0 (EBX, ECX) and 0xD.1 (EBX) are
/// recomputed for what is left, as hardware with that XCR0/XSS would report them. Hiding XSAVE removes leaf 0xD.</summary>
public static class CpuidMasking
{
    /// <summary>A copy of <paramref name="cpu"/> without <paramref name="features"/> (kernel spellings). Unknown
    /// names throw <see cref="ArgumentException"/>: callers check them with <see cref="CpuidFeatureDeps.Find"/>.</summary>
    public static CpuProfile Hide(CpuProfile cpu, IReadOnlyCollection<string> features, string? name = null)
    {
        foreach (var f in features)
            if (CpuidFeatureDeps.Find(f) is null)
                throw new ArgumentException($"unknown CPUID feature '{f}'", nameof(features));
        var cleared = CpuidFeatureDeps.WithDependents(features);
        var hidden = CpuidFeatureDeps.Bits.Where(b => cleared.Contains(b.Name)).ToArray();
        // PKRU is gated by OSPKE, which the kernel sets with PKU: hiding PKU hides the state.
        var clearedFeatures = new HashSet<CpuFeature>(CpuidFeatureDeps.Features(cleared));
        ulong dropX = 0;
        for (int i = 2; i < XFeatureTable.Count; i++)
        {
            var gate = XFeatureTable.Get(i).Gate;
            if (gate != CpuFeature.None && clearedFeatures.Contains(gate))
                dropX |= 1UL << i;
        }
        if (clearedFeatures.Contains(CpuFeature.Xsaves))
            dropX |= cpu.SupportedXss; // without XSAVES there is no IA32_XSS to manage them
        if (clearedFeatures.Contains(CpuFeature.Xsave))
        {
            // Leaf 0xD is defined only with CPUID.1:ECX.XSAVE (SDM Vol. 2A, CPUID); a VMM hiding XSAVE
            // returns zeros there (QEMU cpu_x86_cpuid()), as a CPU without it does.
            var rest = Rebuild(cpu, hidden, 0, name ?? cpu.Name);
            return new CpuProfile(rest.Name, rest.Source, rest.Leaves.Where(l => l.Leaf != 0xD));
        }
        return Rebuild(cpu, hidden, dropX, name ?? cpu.Name);
    }

    /// <summary>A copy of <paramref name="cpu"/> with only the XSAVE components of <paramref name="keep"/> (XCR0 and
    /// IA32_XSS bits) and without the CPUID features that gate the others (with their dependents).</summary>
    public static CpuProfile KeepComponents(CpuProfile cpu, ulong keep, string name)
    {
        var gates = new List<string>();
        ulong drop = (cpu.SupportedXcr0 | cpu.SupportedXss) & ~keep & ~XFeatureMasks.FpSse;
        for (int i = 2; i < XFeatureTable.Count; i++)
            if ((drop >> i & 1) != 0 && XFeatureTable.Get(i).Gate is var g and not CpuFeature.None
                && CpuidFeatureDeps.Bits.FirstOrDefault(b => b.Feature == g) is { } bit)
                gates.Add(bit.Name);
        // A gate shared with a kept component (CET_U and CET_S both need SHSTK) stays.
        gates.RemoveAll(n => Enumerable.Range(2, XFeatureTable.Count - 2)
            .Any(i => (keep >> i & 1) != 0 && CpuidFeatureDeps.Find(n)!.Feature == XFeatureTable.Get(i).Gate));
        var cleared = CpuidFeatureDeps.WithDependents(gates);
        return Rebuild(cpu, CpuidFeatureDeps.Bits.Where(b => cleared.Contains(b.Name)).ToArray(), drop, name);
    }

    private static CpuProfile Rebuild(CpuProfile cpu, IReadOnlyList<NamedCpuidBit> hidden, ulong dropComponents, string name)
    {
        var leaves = new List<CpuidLeaf>();
        foreach (var l in cpu.Leaves)
        {
            var x = l;
            foreach (var b in hidden)
                if (b.Bit.Leaf == l.Leaf && b.Bit.Subleaf == l.Subleaf)
                    x = Clear(x, b.Bit.Register, b.Bit.Bit);
            if (l.Leaf == 0xD && l.Subleaf >= 2 && l.Subleaf < 63 && (dropComponents >> (int)l.Subleaf & 1) != 0)
                continue;
            if (l.Leaf == 0xD && l.Subleaf == 0)
                x = x with { Eax = x.Eax & ~(uint)dropComponents, Edx = x.Edx & ~(uint)(dropComponents >> 32) };
            if (l.Leaf == 0xD && l.Subleaf == 1)
                x = x with { Ecx = x.Ecx & ~(uint)dropComponents, Edx = x.Edx & ~(uint)(dropComponents >> 32) };
            leaves.Add(x);
        }
        var partial = new CpuProfile(name, cpu.Source, leaves);
        if (!partial.HasLeafD)
            return partial;
        // Sizes as hardware reports them with every remaining component enabled.
        int standard = XStateGeometry.Size(partial, partial.SupportedXcr0, compacted: false);
        int compacted = XStateGeometry.Size(partial, partial.SupportedXcr0 | partial.SupportedXss, compacted: true);
        return new CpuProfile(name, cpu.Source, leaves.Select(l => l.Leaf != 0xD ? l
            : l.Subleaf == 0 ? l with { Ebx = (uint)standard, Ecx = (uint)standard }
            : l.Subleaf == 1 ? l with { Ebx = (uint)compacted }
            : l));
    }

    private static CpuidLeaf Clear(CpuidLeaf l, CpuidRegister reg, int bit)
    {
        uint m = ~(1u << bit);
        return reg switch
        {
            CpuidRegister.Eax => l with { Eax = l.Eax & m },
            CpuidRegister.Ebx => l with { Ebx = l.Ebx & m },
            CpuidRegister.Ecx => l with { Ecx = l.Ecx & m },
            _ => l with { Edx = l.Edx & m },
        };
    }
}
