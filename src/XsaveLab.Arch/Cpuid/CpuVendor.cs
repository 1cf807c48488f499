namespace XsaveLab.Arch.Cpuid;

/// <summary>CPU vendor from the CPUID leaf 0 signature.</summary>
public enum CpuVendor : byte
{
    Unknown,
    Intel,
    Amd,
    Hygon,
    Zhaoxin,
}
