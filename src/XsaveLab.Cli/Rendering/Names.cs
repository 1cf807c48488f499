namespace XsaveLab.Cli.Rendering;

/// <summary>Display names.</summary>
public static class Names
{
    public static string Vendor(CpuVendor v) => v switch
    {
        CpuVendor.Intel => "Intel",
        CpuVendor.Amd => "AMD",
        CpuVendor.Hygon => "Hygon",
        CpuVendor.Zhaoxin => "Zhaoxin",
        _ => "unknown",
    };
}
