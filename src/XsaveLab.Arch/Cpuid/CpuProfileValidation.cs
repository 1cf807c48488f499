namespace XsaveLab.Arch.Cpuid;

/// <summary>The one check every CPUID dump passes before a model sees it: the values of leaf 0xD must stay
/// within <see cref="CpuProfileLimits"/> and be complete enough to build an XSAVE area from. The reader applies
/// it to every dump (so every command and <c>catalog import</c> refuse the same files); see docs/cpuid-input.md.</summary>
/// <remarks>What is checked here is what the models cannot survive: an undefined bit in the supported masks,
/// an enumerated component without its sub-leaf, with size 0 or smaller than its registers, a user component placed inside the legacy
/// region or header, sizes and offsets past the bounds. Values that are merely odd (a wrong maximum size, an
/// overlap, a component in the unexpected register) pass and are reported by <c>ProfileSanity</c>.</remarks>
public static class CpuProfileValidation
{
    /// <summary>XCR0 bits the architecture defines: the user components of SDM Vol.1 §13.2 (table 13-1).</summary>
    public static ulong DefinedXcr0 { get; } = Defined(supervisor: false);

    /// <summary>IA32_XSS bits the architecture defines: the supervisor components of SDM Vol.1 §13.2.</summary>
    public static ulong DefinedXss { get; } = Defined(supervisor: true);

    /// <summary>The first bound <paramref name="cpu"/> breaks, or null when models may be built from it.
    /// A CPU without XSAVE (or whose maximum leaf hides leaf 0xD) has nothing to check.</summary>
    public static CpuProfileProblem? FirstProblem(CpuProfile cpu)
    {
        if (!cpu.HasLeafD)
            return null;
        var d0 = cpu.Leaf(0xD, 0);
        var d1 = cpu.Leaf(0xD, 1);
        ulong badX = cpu.SupportedXcr0 & ~DefinedXcr0;
        if (badX != 0)
            return new(0xD, 0, $"CPUID(0xd,0).EDX:EAX = 0x{cpu.SupportedXcr0:x} sets XCR0 bits the architecture does not define ({Bits(badX)}); XCR0 has only {XFeatureTable.Describe(DefinedXcr0)}");
        ulong badS = cpu.SupportedXss & ~DefinedXss;
        if (badS != 0)
            return new(0xD, 1, $"CPUID(0xd,1).EDX:ECX = 0x{cpu.SupportedXss:x} sets IA32_XSS bits the architecture does not define ({Bits(badS)}); IA32_XSS has only {XFeatureTable.Describe(DefinedXss)}");
        if (d0.Ebx > CpuProfileLimits.MaxAreaBytes || d0.Ecx > CpuProfileLimits.MaxAreaBytes)
            return new(0xD, 0, $"CPUID(0xd,0) reports an XSAVE area of {Math.Max(d0.Ebx, d0.Ecx)} bytes; the limit is {CpuProfileLimits.MaxAreaBytes} (1 MiB)");
        if (d1.Ebx > CpuProfileLimits.MaxAreaBytes)
            return new(0xD, 1, $"CPUID(0xd,1).EBX reports an XSAVE area of {d1.Ebx} bytes; the limit is {CpuProfileLimits.MaxAreaBytes} (1 MiB)");

        // Every sub-leaf present is bounded, enumerated or not: the profile builds a component from any non-zero EAX.
        foreach (var l in cpu.Leaves)
        {
            if (l.Leaf != 0xD || l.Subleaf < 2 || l.Subleaf > 62)
                continue;
            if (l.Eax > CpuProfileLimits.MaxComponentBytes)
                return new(0xD, l.Subleaf, $"CPUID(0xd,{l.Subleaf}).EAX reports a component of {l.Eax} bytes; the limit is {CpuProfileLimits.MaxComponentBytes} (1 MiB)");
            if ((l.Ecx & 1) == 0 && (ulong)l.Ebx + l.Eax > CpuProfileLimits.MaxComponentBytes)
                return new(0xD, l.Subleaf, $"CPUID(0xd,{l.Subleaf}) places a component at offset {l.Ebx} with {l.Eax} bytes, ending past the limit of {CpuProfileLimits.MaxComponentBytes} (1 MiB)");
        }

        ulong all = (cpu.SupportedXcr0 | cpu.SupportedXss) & XFeatureMasks.Extend;
        ulong compacted = (ulong)XsaveOffsets.ExtendedStart;
        for (ulong m = all; m != 0; m &= m - 1)
        {
            int i = BitOperations.TrailingZeroCount(m);
            bool inXss = (cpu.SupportedXss >> i & 1) != 0;
            string where = inXss ? "CPUID(0xd,1).EDX:ECX (IA32_XSS)" : "CPUID(0xd,0).EDX:EAX (XCR0)";
            string label = $"component {i} ({XFeatureTable.Get(i, inXss).ShortName})";
            if (!cpu.TryGetLeaf(0xD, (uint)i, out var c))
                return new(0xD, inXss ? 1u : 0u, $"{label} is enumerated in {where} but the dump has no CPUID(0xd,{i}) sub-leaf");
            if (c.Eax == 0)
                return new(0xD, (uint)i, $"{label} is enumerated in {where} but CPUID(0xd,{i}).EAX reports size 0");
            if (i < XFeatureTable.Count && XFeatureTable.Get(i).ArchitecturalSize is int arch && c.Eax < arch)
                return new(0xD, (uint)i, $"{label} reports {c.Eax} bytes (CPUID(0xd,{i}).EAX), fewer than the {arch} its registers take");
            if ((c.Ecx & 1) == 0 && c.Ebx < XsaveOffsets.ExtendedStart)
                return new(0xD, (uint)i, $"{label} is placed at standard offset {c.Ebx} (CPUID(0xd,{i}).EBX), inside the legacy region and XSAVE header that end at {XsaveOffsets.ExtendedStart}");
            if ((c.Ecx & 2) != 0)
                compacted = (compacted + 63) & ~63UL;
            compacted += c.Eax;
            if (compacted > CpuProfileLimits.MaxAreaBytes)
                return new(0xD, (uint)i, $"the compacted XSAVE area of every enumerated component reaches {compacted} bytes at {label}; the limit is {CpuProfileLimits.MaxAreaBytes} (1 MiB)");
        }
        return null;
    }

    private static ulong Defined(bool supervisor)
    {
        ulong m = 0;
        foreach (var f in XFeatureTable.All)
            if (f.IsSupervisor == supervisor)
                m |= f.Mask;
        return m;
    }

    private static string Bits(ulong mask)
    {
        var bits = new List<int>();
        for (ulong m = mask; m != 0; m &= m - 1)
            bits.Add(BitOperations.TrailingZeroCount(m));
        return (bits.Count == 1 ? "bit " : "bits ") + string.Join(", ", bits);
    }
}
