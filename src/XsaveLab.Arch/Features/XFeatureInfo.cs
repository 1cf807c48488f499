namespace XsaveLab.Arch.Features;

/// <summary>Facts about one XSAVE component: architecture (SDM Vol.1 ch.13) and the Linux naming and gating
/// (arch/x86/kernel/fpu/xstate.c <c>xfeature_names[]</c>, <c>xsave_cpuid_features[]</c>).</summary>
/// <param name="Number">Component number (bit in XCR0/XSS).</param>
/// <param name="Name">The PascalCase name of the <see cref="XFeature"/> member for this number.</param>
/// <param name="KernelName">The kernel's enum name, e.g. <c>XFEATURE_CET_KERNEL</c>.</param>
/// <param name="SdmName">The SDM's name of the state component (Vol.1 §13.1), e.g. <c>CET_S state</c>.</param>
/// <param name="ShortName">Short display name, e.g. <c>CET_S</c>.</param>
/// <param name="BootLogName">The exact string Linux 6.17 prints in <c>Supporting XSAVE feature</c> lines.</param>
/// <param name="Register">XCR0 (user) or IA32_XSS (supervisor).</param>
/// <param name="LinuxClass">Which of the kernel's masks names it.</param>
/// <param name="Dynamic">Linux treats it as a dynamically enabled (XFD-armed, permission-gated) user feature
/// (<c>XFEATURE_MASK_USER_DYNAMIC</c>); the processor allows XFD for it only where CPUID(0xD,i).ECX[2] says so.</param>
/// <param name="Gate">The CPUID feature Linux requires (6.17 table); <see cref="CpuFeature.None"/> with
/// <paramref name="KernelSupported"/> false means the table entry is 0 and the bit is always cleared.</param>
/// <param name="KernelSupported">Linux 6.17 has a gate entry (or it is x87).</param>
/// <param name="ArchitecturalSize">Size of the kernel's C struct for this component, null when variable or unknown.</param>
/// <param name="Registers">The registers the component holds, in image order; empty when the component is
/// opaque to this model (PT, HDC, UINTR, LBR, HWP: saved and restored as bytes).</param>
/// <remarks>Whether a component is 64-byte aligned in the compacted form is CPUID(0xD,i).ECX[1] of the
/// processor, not a property of the number (SDM Vol.1 §13.4.3); x87 and SSE never are (fixed legacy slots).</remarks>
public sealed record XFeatureInfo(
    int Number,
    string Name,
    string KernelName,
    string SdmName,
    string ShortName,
    string BootLogName,
    StateRegister Register,
    XFeatureLinuxClass LinuxClass,
    bool Dynamic,
    CpuFeature Gate,
    bool KernelSupported,
    int? ArchitecturalSize,
    IReadOnlyList<XRegister> Registers)
{
    public ulong Mask => 1UL << Number;
    public bool IsSupervisor => Register == StateRegister.Xss;

    /// <summary>The component lives in the legacy region (x87, SSE) rather than the extended area.</summary>
    public bool IsLegacy => Number <= 1;

    /// <summary>No register list: the model moves the component's bytes without naming what they hold.</summary>
    public bool IsOpaque => Registers.Count == 0;
}
