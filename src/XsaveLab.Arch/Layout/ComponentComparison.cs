namespace XsaveLab.Arch.Layout;

/// <summary>Where a component sits on one CPU: CPUID(0xD,i) EBX (standard offset; null for a supervisor component,
/// which has none), EAX (size) and ECX[1] (64-byte alignment in the compacted form).</summary>
public readonly record struct ComponentGeometry(int? Offset, int Size, bool Aligned64)
{
    /// <summary>The geometry of component <paramref name="number"/> on <paramref name="cpu"/>, or null when the CPU does
    /// not enumerate it in XCR0|XSS (x87 and SSE: their fixed legacy slots).</summary>
    public static ComponentGeometry? Of(CpuProfile cpu, int number)
    {
        ulong all = cpu.SupportedXcr0 | cpu.SupportedXss | XFeatureMasks.FpSse;
        if ((uint)number >= 63 || (all >> number & 1) == 0 || cpu.Component(number) is not { } c)
            return null;
        return new ComponentGeometry(c.StandardOffset, c.Size, c.Aligned64);
    }
}

/// <summary>One component on two CPUs.</summary>
public sealed record ComponentComparison(int Number, string Name, ComponentGeometry? From, ComponentGeometry? To)
{
    /// <summary>Both CPUs enumerate the component at the same standard offset, with the same size and alignment:
    /// an image written on one is read into the same registers on the other.</summary>
    public bool SameLayout => From is { } f && To is { } t && f == t;

    /// <summary>Both CPUs have it, at a different place or size.</summary>
    public bool Differs => From is not null && To is not null && !SameLayout;

    /// <summary>Compares every component of <paramref name="mask"/> (x87 and SSE excluded: their slots are fixed by
    /// the FXSAVE format) on <paramref name="from"/> and <paramref name="to"/>, ascending.</summary>
    public static IReadOnlyList<ComponentComparison> Compare(CpuProfile from, CpuProfile to, ulong mask)
    {
        var rows = new List<ComponentComparison>();
        for (int i = 2; i < 63; i++)
        {
            if ((mask >> i & 1) == 0)
                continue;
            var f = ComponentGeometry.Of(from, i);
            var t = ComponentGeometry.Of(to, i);
            if (f is null && t is null)
                continue;
            bool sup = from.Component(i)?.Supervisor ?? to.Component(i)?.Supervisor ?? false;
            rows.Add(new ComponentComparison(i, XFeatureTable.Get(i, sup).ShortName, f, t));
        }
        return rows;
    }

    /// <summary>Components of <paramref name="mask"/> whose layout differs between the two CPUs (present on both).</summary>
    public static ulong DifferingMask(CpuProfile from, CpuProfile to, ulong mask) =>
        Compare(from, to, mask).Where(r => r.Differs).Aggregate(0UL, (m, r) => m | 1UL << r.Number);

    /// <summary>One line for a row, e.g. <c>opmask: offset 1088 on icx, 832 on zen4-genoa</c>.</summary>
    public string Describe(string fromName, string toName)
    {
        if (From is not { } f)
            return $"{Name}: not on {fromName}";
        if (To is not { } t)
            return $"{Name}: not on {toName}";
        var parts = new List<string>();
        if (f.Offset != t.Offset)
            parts.Add($"offset {f.Offset?.ToString(CultureInfo.InvariantCulture) ?? "none"} on {fromName}, {t.Offset?.ToString(CultureInfo.InvariantCulture) ?? "none"} on {toName}");
        if (f.Size != t.Size)
            parts.Add($"size {f.Size} on {fromName}, {t.Size} on {toName}");
        if (f.Aligned64 != t.Aligned64)
            parts.Add($"64-byte alignment {(f.Aligned64 ? "on" : "off")} on {fromName}, {(t.Aligned64 ? "on" : "off")} on {toName}");
        return parts.Count == 0 ? $"{Name}: same layout" : $"{Name}: {string.Join("; ", parts)}";
    }
}
