namespace XsaveLab.Arch.Sanity;

/// <summary>Boot-time style checks of a profile's leaf 0xD, as Xen does in <c>xstate_check_sizes()</c> and
/// <c>valid_xcr0()</c> and Linux in <c>paranoid_xstate_size_valid()</c>/<c>check_xstate_against_struct()</c>.
/// Problems are returned as findings; nothing throws.</summary>
public static class ProfileSanity
{
    public static IReadOnlyList<ProfileFinding> Check(CpuProfile cpu)
    {
        var f = new List<ProfileFinding>();
        if (!cpu.HasXsave)
        {
            f.Add(new(FindingSeverity.Info, "NO_XSAVE",
                $"{cpu.Name} has no XSAVE (CPUID.1:ECX[26] clear): only the {XsaveOffsets.FxsaveSize}-byte FXSAVE area exists"));
            return f;
        }

        foreach (var (code, msg) in Xcr0Rules.Violations(cpu.SupportedXcr0))
            f.Add(new(FindingSeverity.Error, code, $"supported XCR0 0x{cpu.SupportedXcr0:x}: {msg}"));

        CheckComponents(cpu, f);
        CheckStandardOverlap(cpu, f);
        CheckCompactedGrowth(cpu, f);
        CheckReportedSizes(cpu, f);
        return f;
    }

    /// <summary>Per-component facts: enumerated, in the right register, no standard offset for supervisor
    /// state, and the size of the kernel's struct for it.</summary>
    private static void CheckComponents(CpuProfile cpu, List<ProfileFinding> f)
    {
        ulong all = (cpu.SupportedXcr0 | cpu.SupportedXss) & XFeatureMasks.Extend;
        for (int i = 2; i < 63; i++)
        {
            ulong bit = 1UL << i;
            if ((all & bit) == 0)
                continue;
            bool inXss = (cpu.SupportedXss & bit) != 0;
            string reg = inXss ? "IA32_XSS" : "XCR0";
            var info = XFeatureTable.Get(i, inXss);
            string label = $"component {i} ({info.ShortName})";
            if (cpu.Component(i) is not { } c)
            {
                f.Add(new(FindingSeverity.Error, "COMPONENT_MISSING",
                    $"{label} is supported in {reg} but CPUID(0xd,{i}) reports size 0"));
                continue;
            }
            if (c.Supervisor != inXss)
                f.Add(new(FindingSeverity.Error, "COMPONENT_REGISTER",
                    $"{label} is supported in {reg} but CPUID(0xd,{i}).ECX[0] says {(c.Supervisor ? "supervisor" : "user")}"));
            else if (i < XFeatureTable.Count && info.IsSupervisor != inXss)
                f.Add(new(FindingSeverity.Warning, "COMPONENT_REGISTER",
                    $"{label} is architecturally {(info.IsSupervisor ? "supervisor (IA32_XSS)" : "user (XCR0)")} but this CPU reports it in {reg}"));
            if (c.Supervisor && cpu.Leaf(0xD, (uint)i).Ebx != 0)
                f.Add(new(FindingSeverity.Warning, "SUPERVISOR_OFFSET",
                    $"{label} is supervisor state but CPUID(0xd,{i}).EBX reports a standard offset {cpu.Leaf(0xD, (uint)i).Ebx}; supervisor state has no place in the standard format"));
            if (i < XFeatureTable.Count && info.ArchitecturalSize is int arch && arch != c.Size)
                f.Add(new(FindingSeverity.Warning, "COMPONENT_SIZE",
                    $"{label} reports {c.Size} bytes (CPUID(0xd,{i}).EAX); the architectural size is {arch}"));
        }
    }

    /// <summary>User components must sit after the header and must not overlap in the standard format.</summary>
    private static void CheckStandardOverlap(CpuProfile cpu, List<ProfileFinding> f)
    {
        var placed = cpu.SupportedComponents()
            .Where(c => c.Number >= 2 && !c.Supervisor && c.StandardOffset is not null && (cpu.SupportedXcr0 >> c.Number & 1) != 0)
            .OrderBy(c => c.StandardOffset).ToList();
        int end = XsaveOffsets.ExtendedStart;
        string prev = "the XSAVE header";
        foreach (var c in placed)
        {
            int off = c.StandardOffset!.Value;
            string name = XFeatureTable.Get(c.Number).ShortName;
            if (off < end)
                f.Add(new(FindingSeverity.Error, "STANDARD_OVERLAP",
                    $"component {c.Number} ({name}) at standard offset {off} overlaps {prev}, which ends at {end}"));
            if (off + c.Size > end)
            {
                end = off + c.Size;
                prev = $"component {c.Number} ({name})";
            }
        }
    }

    /// <summary>Adding components in index order must make the compacted area strictly larger
    /// (Xen <c>xstate_check_sizes()</c>).</summary>
    private static void CheckCompactedGrowth(CpuProfile cpu, List<ProfileFinding> f)
    {
        if (!cpu.HasXsavec)
            return;
        ulong all = (cpu.SupportedXcr0 | cpu.SupportedXss) & XFeatureMasks.Extend;
        ulong mask = XFeatureMasks.FpSse;
        int prev = XStateGeometry.Size(cpu, mask, compacted: true);
        while (all != 0)
        {
            int i = BitOperations.TrailingZeroCount(all);
            all &= all - 1;
            mask |= 1UL << i;
            int size = XStateGeometry.Size(cpu, mask, compacted: true);
            if (size <= prev)
                f.Add(new(FindingSeverity.Error, "COMPACTED_NOT_GROWING",
                    $"adding component {i} ({XFeatureTable.Get(i, (cpu.SupportedXss >> i & 1) != 0).ShortName}) leaves the compacted size at {size} (was {prev})"));
            prev = size;
        }
    }

    /// <summary>The dump's own sizes. 0xD.0 ECX (all supported XCR0 bits) is a property of the hardware and
    /// must match the rules; 0xD.0 EBX and 0xD.1 EBX follow the XCR0/IA32_XSS the dumping OS had set
    /// (SDM Vol.2A CPUID leaf 0DH), so a difference is only reported, with the masks that explain it.</summary>
    private static void CheckReportedSizes(CpuProfile cpu, List<ProfileFinding> f)
    {
        var d0 = cpu.Leaf(0xD, 0);
        var d1 = cpu.Leaf(0xD, 1);
        int maxStd = XStateGeometry.Size(cpu, cpu.SupportedXcr0, compacted: false);
        if (d0.Ecx != maxStd)
            f.Add(new(FindingSeverity.Error, "MAX_SIZE",
                $"CPUID(0xd,0).ECX reports {d0.Ecx} bytes for all supported XCR0 bits; the components give {maxStd}"));

        var fit = ReportedMasks.Infer(cpu);
        if (d0.Ebx != maxStd)
        {
            string expl = fit.Xcr0 is ulong x
                ? $"it is the standard size for XCR0 = 0x{x:x} ({XFeatureTable.Describe(x)}{Alternatives(fit.Xcr0Count)}); the OS that made the dump had not enabled {XFeatureTable.Describe(cpu.SupportedXcr0 & ~x)}"
                : "no valid XCR0 made of supported bits gives that size";
            f.Add(new(FindingSeverity.Info, "OS_XCR0_SIZE",
                $"CPUID(0xd,0).EBX = {Numbers.Int(d0.Ebx)}, not {Numbers.Int(maxStd)} (all supported XCR0): {expl}"));
        }

        if (!cpu.HasXsaves)
            return;
        int maxCmp = XStateGeometry.Size(cpu, cpu.SupportedXcr0 | cpu.SupportedXss, compacted: true);
        if (d1.Ebx != maxCmp)
        {
            string expl = fit.Xss is ulong s && fit.Xcr0 is ulong x2
                ? $"it is the compacted size for XCR0 = 0x{x2:x}, IA32_XSS = 0x{s:x} ({XFeatureTable.Describe(s)}{Alternatives(fit.PairCount)})"
                : "no valid XCR0/IA32_XSS pair made of supported bits gives that size";
            f.Add(new(FindingSeverity.Info, "OS_XSS_SIZE",
                $"CPUID(0xd,1).EBX = {Numbers.Int(d1.Ebx)}, not {Numbers.Int(maxCmp)} (all supported XCR0|IA32_XSS, compacted): {expl}"));
        }
    }

    private static string Alternatives(int count) => count > 1 ? $"; the largest of {count} masks that fit" : "";
}
