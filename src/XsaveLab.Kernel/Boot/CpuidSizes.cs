namespace XsaveLab.Kernel.Boot;

/// <summary>What CPUID(0xD,0).EBX and CPUID(0xD,1).EBX report once XCR0 and IA32_XSS are programmed: the
/// sizes are computed from the enumerated components, never taken from a dump (whose EBX values reflect the
/// operating system that made it).</summary>
/// <remarks>SDM Vol.2A CPUID leaf 0DH: sub-leaf 0 EBX = size of the standard-format area for the features
/// enabled in XCR0; sub-leaf 1 EBX = size of the compacted area (XSAVES) for XCR0 | IA32_XSS.</remarks>
public static class CpuidSizes
{
    public static int StandardSizeForXcr0(CpuProfile cpu, ulong xcr0) => XStateGeometry.Size(cpu, xcr0, compacted: false);

    public static int CompactedSizeForXcr0Xss(CpuProfile cpu, ulong xcr0, ulong xss) => XStateGeometry.Size(cpu, xcr0 | xss, compacted: true);
}
