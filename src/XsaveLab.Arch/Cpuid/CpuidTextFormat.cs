namespace XsaveLab.Arch.Cpuid;

/// <summary>Text formats of CPUID dumps the readers understand.</summary>
public enum CpuidTextFormat : byte
{
    /// <summary>InstLatx64/AIDA64: <c>CPUID 0000000D: EAX-EBX-ECX-EDX [SL 01]</c>.</summary>
    InstLatx64,

    /// <summary>Todd Allen's <c>cpuid -r</c>: <c>0x0000000d 0x01: eax=… ebx=… ecx=… edx=…</c>;
    /// also the project's own compact profile files.</summary>
    CpuidRaw,
}
