namespace XsaveLab.Arch.Layout;

/// <summary>Offsets and sizes of XSAVE areas, computed from a profile's CPUID(0xD,i) facts exactly as the
/// kernel does (arch/x86/kernel/fpu/xstate.c: <c>xfeature_get_offset()</c>, <c>xstate_calculate_size()</c>)
/// and as the SDM defines the compacted form (Vol.1 §13.4.3).</summary>
public static class XStateGeometry
{
    /// <summary>Offset of component <paramref name="feature"/> in an area holding <paramref name="xcompBv"/>:
    /// compacted form when <paramref name="compacted"/> (each component follows the previous present one,
    /// rounded up to 64 when CPUID(0xD,i).ECX[1] says so — the requested component's own alignment included),
    /// else the CPUID standard offset. Returns -1 when there is no standard offset.</summary>
    /// <remarks>Kernel <c>xfeature_get_offset()</c>.</remarks>
    public static int Offset(CpuProfile cpu, ulong xcompBv, int feature, bool compacted)
    {
        if (!compacted || feature <= 1)
            return cpu.Component(feature)?.StandardOffset ?? -1;
        int offs = XsaveOffsets.ExtendedStart;
        ulong mask = xcompBv & XFeatureMasks.Extend;
        while (mask != 0)
        {
            int i = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            var c = cpu.Component(i);
            if (c is { Aligned64: true })
                offs = XsaveOffsets.Align64(offs);
            if (i == feature)
                break;
            offs += c?.Size ?? 0;
        }
        return offs;
    }

    /// <summary>Size of an area holding <paramref name="xfeatures"/>.</summary>
    /// <remarks>Kernel <c>xstate_calculate_size()</c>: 576 when nothing above SSE is present; compacted:
    /// offset of the topmost feature plus its size; standard: the enumerated user feature with the largest
    /// standard offset (not necessarily the highest number — APX sits at 960) plus its size.</remarks>
    public static int Size(CpuProfile cpu, ulong xfeatures, bool compacted)
    {
        xfeatures &= ~XFeatureMasks.CompactedFormat;
        int topmost = XFeatureMasks.Topmost(xfeatures);
        if (topmost <= 1)
            return XsaveOffsets.ExtendedStart;
        if (compacted)
            return Offset(cpu, xfeatures, topmost, true) + (cpu.Component(topmost)?.Size ?? 0);

        int best = -1, end = XsaveOffsets.ExtendedStart;
        ulong mask = xfeatures & XFeatureMasks.Extend;
        while (mask != 0)
        {
            int i = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            if (cpu.Component(i) is { StandardOffset: int off } c && off >= best)
            {
                best = off;
                end = off + c.Size;
            }
        }
        return end;
    }

    /// <summary>Features of <paramref name="mask"/> that the CPU does not enumerate in XCR0|XSS.</summary>
    public static ulong Unsupported(CpuProfile cpu, ulong mask) =>
        mask & ~XFeatureMasks.CompactedFormat & ~(cpu.SupportedXcr0 | cpu.SupportedXss | XFeatureMasks.FpSse);
}
