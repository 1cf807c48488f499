namespace XsaveLab.Kernel.Boot;

/// <summary>A failed size check of <c>paranoid_xstate_size_valid()</c> (arch/x86/kernel/fpu/xstate.c): the
/// kernel's <c>xstate_calculate_size()</c> of <c>fpu_kernel_cfg.max_features</c> against the size CPUID
/// reported — 0xD.0 EBX (<c>get_xsave_size_user()</c>) for the standard format, 0xD.1 EBX
/// (<c>get_xsave_compacted_size()</c>) for the compacted one.</summary>
/// <param name="Computed">The kernel's own sum.</param>
/// <param name="Reported">What CPUID returned.</param>
/// <param name="SubLeaf">The 0xD sub-leaf whose EBX was compared.</param>
/// <param name="Xcr0">XCR0 programmed when CPUID was read.</param>
/// <param name="Xss">IA32_XSS programmed when CPUID was read (independent features off).</param>
public sealed record XstateSizeMismatch(int Computed, int Reported, uint SubLeaf, ulong Xcr0, ulong Xss)
{
    private bool CompactedCheck => SubLeaf == 1;

    /// <summary>Which known hypervisor mistake the reported number matches, or null: zero, the compacted sum
    /// without the 64-byte alignment that CPUID(0xD,i).ECX[1] asks for (SDM Vol.1 §13.4.3), the standard size
    /// where the compacted one is due, or the size for another feature set.</summary>
    public string? KnownMistake(CpuProfile cpu)
    {
        ulong mask = Xcr0 | Xss;
        if (Reported == 0)
            return $"CPUID(0xd,{SubLeaf}).EBX is 0: the hypervisor does not report the size at all";
        if (CompactedCheck && Reported == UnalignedCompactedSize(cpu, mask))
            return $"{Reported} is the compacted size of 0x{mask:x} without the 64-byte alignment that CPUID(0xd,i).ECX[1] requests";
        if (CompactedCheck && Reported == XStateGeometry.Size(cpu, Xcr0, compacted: false))
            return $"{Reported} is the standard-format size of XCR0 0x{Xcr0:x} (0xd.0 EBX), not the compacted size of XCR0|IA32_XSS";
        ulong[] others = [Xcr0, Xcr0 | cpu.SupportedXss, cpu.SupportedXcr0, cpu.SupportedXcr0 | cpu.SupportedXss, XFeatureMasks.FpSse];
        foreach (ulong other in others)
            if (other != mask && Reported == XStateGeometry.Size(cpu, other, CompactedCheck))
                return $"{Reported} is the {(CompactedCheck ? "compacted" : "standard-format")} size for features 0x{other:x}, not for the programmed 0x{mask:x}";
        return null;
    }

    // The compacted sum with every component packed after the previous one (the alignment bit ignored).
    private static int UnalignedCompactedSize(CpuProfile cpu, ulong mask)
    {
        int size = XsaveOffsets.ExtendedStart;
        ulong ext = mask & XFeatureMasks.Extend;
        for (; ext != 0; ext &= ext - 1)
            size += cpu.Component(BitOperations.TrailingZeroCount(ext))?.Size ?? 0;
        return size;
    }
}
