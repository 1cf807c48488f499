namespace XsaveLab.Arch.Cpuid;

/// <summary>The bounds a CPUID dump must keep before any model uses it (docs/cpuid-input.md).</summary>
/// <remarks>Every bound is far above any real processor so that no genuine dump is refused, and low enough that
/// the models built from a dump (register files, XSAVE images, signal frames, KVM buffers) stay small and never
/// overflow 32-bit arithmetic. The largest XSAVE area of a shipping CPU is about 12 KiB (Sapphire Rapids:
/// 0x2B00 bytes with AMX); the largest dump file is under 1 MB with lines under 200 characters.</remarks>
public static class CpuProfileLimits
{
    /// <summary>Largest dump file read: 4 MiB (InstLatx64 dumps of 256-thread servers are under 1 MB).</summary>
    public const int MaxFileBytes = 4 << 20;

    /// <summary>Longest line read: 4096 characters (dump lines are under 200).</summary>
    public const int MaxLineChars = 4096;

    /// <summary>Largest size of one state component (CPUID(0xD,i).EAX) and largest end
    /// (offset + size, CPUID(0xD,i).EBX + EAX) of one in the standard form: 1 MiB, about 85 times the
    /// largest area of any processor so far.</summary>
    public const int MaxComponentBytes = 1 << 20;

    /// <summary>Largest XSAVE area, standard or compacted, and largest size CPUID(0xD,0).EBX/ECX and
    /// CPUID(0xD,1).EBX may report: 1 MiB, the same bound as one component.</summary>
    public const int MaxAreaBytes = 1 << 20;
}
