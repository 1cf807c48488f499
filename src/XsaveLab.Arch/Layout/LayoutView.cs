namespace XsaveLab.Arch.Layout;

/// <summary>Everything about the XSAVE areas of one CPU for one XCR0/IA32_XSS pair: each component's standard
/// and compacted place and the three sizes that matter (standard for XCR0 — XSAVE/XSAVEOPT; compacted for
/// XCR0 — XSAVEC; compacted for XCR0|XSS — XSAVES).</summary>
/// <remarks>Offsets and sizes come from <see cref="XStateGeometry"/> (kernel <c>xfeature_get_offset()</c>,
/// <c>xstate_calculate_size()</c>). The compacted column needs XSAVEC (CPUID(0xD,1).EAX[1]); the supervisor
/// part needs XSAVES (EAX[3]), the only instruction that saves IA32_XSS state.</remarks>
public sealed class LayoutView
{
    private LayoutView(CpuProfile cpu, ulong xcr0, ulong xss, IReadOnlyList<LayoutRow> rows, IReadOnlyList<string> warnings)
    {
        Cpu = cpu;
        Xcr0 = xcr0;
        Xss = xss;
        Components = rows;
        Warnings = warnings;
        if (!cpu.HasXsave)
            return;
        StandardSize = XStateGeometry.Size(cpu, xcr0, compacted: false);
        if (cpu.HasXsavec)
            CompactedSize = XStateGeometry.Size(cpu, xcr0, compacted: true);
        if (cpu.HasXsaves)
            CompactedWithSupervisorSize = XStateGeometry.Size(cpu, xcr0 | xss, compacted: true);
    }

    public CpuProfile Cpu { get; }
    public ulong Xcr0 { get; }
    public ulong Xss { get; }
    public bool HasXsave => Cpu.HasXsave;

    /// <summary>The mask whose compacted area the <see cref="LayoutRow.CompactedOffset"/> column describes:
    /// XCR0|XSS with XSAVES, XCR0 with XSAVEC only, 0 without a compacted form.</summary>
    public ulong CompactedMask => Cpu.HasXsaves ? Xcr0 | Xss : Cpu.HasXsavec ? Xcr0 : 0;

    /// <summary>Components of XCR0|XSS in number order (x87 and SSE included).</summary>
    public IReadOnlyList<LayoutRow> Components { get; }

    /// <summary>Standard-format size for XCR0 (what CPUID(0xD,0).EBX reports once XCR0 is set); null without XSAVE.</summary>
    public int? StandardSize { get; }

    /// <summary>Compacted size for XCR0 (XSAVEC with all of XCR0 requested); null without XSAVEC.</summary>
    public int? CompactedSize { get; }

    /// <summary>Compacted size for XCR0|XSS (what CPUID(0xD,1).EBX reports); null without XSAVES.</summary>
    public int? CompactedWithSupervisorSize { get; }

    /// <summary>Things about the requested masks that would not work on the real CPU (e.g. an XCR0 that
    /// XSETBV rejects); the layout is still computed.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Why <paramref name="xcr0"/> cannot be used on <paramref name="cpu"/> (bits it does not support in
    /// XCR0), or null when it can.</summary>
    public static string? CheckXcr0(CpuProfile cpu, ulong xcr0)
    {
        if (!cpu.HasXsave)
            return xcr0 == 0 ? null : $"{cpu.Name} has no XSAVE, so it has no XCR0";
        ulong bad = xcr0 & ~cpu.SupportedXcr0;
        if (bad == 0)
            return null;
        ulong super = bad & cpu.SupportedXss;
        string hint = super != 0 ? $"; {XFeatureTable.Describe(super)} is supervisor state, set it in IA32_XSS" : "";
        return $"0x{xcr0:x} has {Bits(bad)} that {cpu.Name} does not support in XCR0 (supported: 0x{cpu.SupportedXcr0:x} = {XFeatureTable.Describe(cpu.SupportedXcr0)}){hint}";
    }

    /// <summary>Why <paramref name="xss"/> cannot be used on <paramref name="cpu"/>, or null when it can.</summary>
    public static string? CheckXss(CpuProfile cpu, ulong xss)
    {
        if (xss == 0)
            return null;
        if (!cpu.HasXsaves)
            return $"{cpu.Name} has no XSAVES (CPUID(0xd,1).EAX[3] clear), so IA32_XSS cannot hold 0x{xss:x}";
        ulong bad = xss & ~cpu.SupportedXss;
        if (bad == 0)
            return null;
        ulong user = bad & cpu.SupportedXcr0;
        string hint = user != 0 ? $"; {XFeatureTable.Describe(user)} is user state, set it in XCR0" : "";
        return $"0x{xss:x} has {Bits(bad)} that {cpu.Name} does not support in IA32_XSS (supported: 0x{cpu.SupportedXss:x} = {XFeatureTable.Describe(cpu.SupportedXss)}){hint}";
    }

    /// <summary>The view for <paramref name="xcr0"/> and <paramref name="xss"/> (null: every supported bit).
    /// Throws <see cref="ArgumentException"/> for masks rejected by <see cref="CheckXcr0"/>/<see cref="CheckXss"/>;
    /// callers holding user input check first.</summary>
    public static LayoutView Create(CpuProfile cpu, ulong? xcr0 = null, ulong? xss = null)
    {
        ulong x = xcr0 ?? cpu.SupportedXcr0;
        ulong s = xss ?? (cpu.HasXsaves ? cpu.SupportedXss : 0);
        if ((CheckXcr0(cpu, x) ?? CheckXss(cpu, s)) is { } problem)
            throw new ArgumentException(problem);

        if (!cpu.HasXsave)
            return new LayoutView(cpu, 0, 0, [], [$"{cpu.Name} has no XSAVE (CPUID.1:ECX[26] clear): only the {XsaveOffsets.FxsaveSize}-byte FXSAVE area exists"]);

        var warnings = Xcr0Rules.Violations(x).Select(v => $"XSETBV would fault (#GP) on XCR0 0x{x:x}: {v.Message}").ToList();
        if (!cpu.HasXsavec)
            warnings.Add($"{cpu.Name} has no XSAVEC/XSAVES: only the standard format exists");
        else if (!cpu.HasXsaves)
            warnings.Add($"{cpu.Name} has XSAVEC but no XSAVES: the compacted form holds XCR0 state only");

        var probe = new LayoutView(cpu, x, s, [], []);
        ulong cmask = probe.CompactedMask;
        var rows = new List<LayoutRow>();
        ulong all = x | s;
        for (int i = 0; i < 63; i++)
        {
            if ((all >> i & 1) == 0 || cpu.Component(i) is not { } c)
                continue;
            int? cmp = (cmask >> i & 1) != 0 ? XStateGeometry.Offset(cpu, cmask, i, compacted: true) : null;
            rows.Add(new LayoutRow(i, XFeatureTable.Get(i, c.Supervisor).ShortName, c.Supervisor, c.Size,
                c.StandardOffset, cmp, c.Aligned64, c.Xfd));
        }
        return new LayoutView(cpu, x, s, rows, warnings);
    }

    private static string Bits(ulong mask)
    {
        var bits = Enumerable.Range(0, 64).Where(i => (mask >> i & 1) != 0).ToList();
        return $"{(bits.Count == 1 ? "bit" : "bits")} {string.Join(", ", bits)} ({XFeatureTable.Describe(mask)})";
    }
}
