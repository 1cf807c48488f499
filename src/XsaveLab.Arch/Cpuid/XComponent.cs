namespace XsaveLab.Arch.Cpuid;

/// <summary>What CPUID(0xD, i) says about component i (SDM Vol.1 §13.2; Vol.2A CPUID leaf 0DH).</summary>
/// <param name="Number">Component number.</param>
/// <param name="Size">EAX: size in bytes.</param>
/// <param name="StandardOffset">EBX: offset in the standard format; null for supervisor components
/// (which have none) and for components the CPU does not enumerate.</param>
/// <param name="Supervisor">ECX[0]: the component is managed by IA32_XSS.</param>
/// <param name="Aligned64">ECX[1]: 64-byte aligned in the compacted format.</param>
/// <param name="Xfd">ECX[2]: the component supports extended feature disable.</param>
public readonly record struct XComponent(int Number, int Size, int? StandardOffset, bool Supervisor, bool Aligned64, bool Xfd)
{
    /// <summary>x87 and SSE live in the fixed 512-byte legacy region: x87 at 0 (160 bytes up to XMM0),
    /// SSE at 160 (256 bytes of XMM registers). The kernel's setup_xstate_cache() hard-codes these.</summary>
    public static readonly XComponent LegacyFp = new(0, 160, 0, false, false, false);

    public static readonly XComponent LegacySse = new(1, 256, 160, false, false, false);
}
