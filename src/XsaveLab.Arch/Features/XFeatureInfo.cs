namespace XsaveLab.Arch.Features;

/// <summary>Facts about one XSAVE component: architecture (SDM Vol.1 §13) and the Linux naming and gating
/// (arch/x86/kernel/fpu/xstate.c <c>xfeature_names[]</c>, <c>xsave_cpuid_features[]</c>).</summary>
/// <param name="Number">Component number (bit in XCR0/XSS).</param>
/// <param name="KernelName">The kernel's enum name, e.g. <c>XFEATURE_CET_KERNEL</c>.</param>
/// <param name="ShortName">Short display name, e.g. <c>CET_S</c>.</param>
/// <param name="BootLogName">The exact string Linux 6.17 prints in <c>Supporting XSAVE feature</c> lines.</param>
/// <param name="Register">XCR0 (user) or IA32_XSS (supervisor).</param>
/// <param name="Dynamic">Linux treats it as a dynamically enabled (XFD, permission-gated) user feature.</param>
/// <param name="Gate">The CPUID feature Linux requires (6.17 table); <see cref="CpuFeature.None"/> with
/// <paramref name="KernelSupported"/> false means the table entry is 0 and the bit is always cleared.</param>
/// <param name="KernelSupported">Linux 6.17 has a gate entry (or it is x87).</param>
/// <param name="ArchitecturalSize">Size of the kernel's C struct for this component, null when variable or unknown.</param>
public sealed record XFeatureInfo(
    int Number,
    string KernelName,
    string ShortName,
    string BootLogName,
    StateRegister Register,
    bool Dynamic,
    CpuFeature Gate,
    bool KernelSupported,
    int? ArchitecturalSize)
{
    public ulong Mask => 1UL << Number;
    public bool IsSupervisor => Register == StateRegister.Xss;
}
