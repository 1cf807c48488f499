namespace XsaveLab.Arch.Layout;

/// <summary>One component in a <see cref="LayoutView"/>.</summary>
/// <param name="Number">Component number (bit in XCR0 or IA32_XSS).</param>
/// <param name="Name">Short name from the xfeature table.</param>
/// <param name="Supervisor">Managed by IA32_XSS (CPUID(0xD,i).ECX[0]).</param>
/// <param name="Size">CPUID(0xD,i).EAX.</param>
/// <param name="StandardOffset">CPUID(0xD,i).EBX; null for supervisor state.</param>
/// <param name="CompactedOffset">Offset in the compacted area of <see cref="LayoutView.CompactedMask"/>;
/// null when the CPU has no compacted form or the component is not part of it.</param>
/// <param name="Aligned64">CPUID(0xD,i).ECX[1]: 64-byte aligned in the compacted form.</param>
/// <param name="Xfd">CPUID(0xD,i).ECX[2]: can be armed for extended feature disable.</param>
public sealed record LayoutRow(
    int Number, string Name, bool Supervisor, int Size, int? StandardOffset, int? CompactedOffset, bool Aligned64, bool Xfd);
