namespace XsaveLab.Kernel.Boot;

/// <summary><c>struct fpu_state_config</c> (arch/x86/include/asm/fpu/types.h): <c>fpu_kernel_cfg</c> and
/// <c>fpu_user_cfg</c>, read-only after boot.</summary>
/// <param name="MaxSize">Buffer size for all supported features (kernel: compacted when XCOMPACTED; user: standard).</param>
/// <param name="DefaultSize">Size for the default features.</param>
/// <param name="MaxFeatures">All supported features except independent ones.</param>
/// <param name="DefaultFeatures">Max minus independent, guest-only and opt-in (dynamic) features.</param>
/// <param name="LegacyFeatures">FP|SSE with FXSR, FP without (user config only).</param>
/// <param name="IndependentFeatures">Features saved by explicit calls (arch LBR).</param>
public sealed record FpuStateConfig(int MaxSize, int DefaultSize, ulong MaxFeatures, ulong DefaultFeatures, ulong LegacyFeatures, ulong IndependentFeatures);

/// <summary><c>struct vcpu_fpu_config guest_default_cfg</c> (6.17, 7bc4ed75f2d6): what a new guest fpstate gets.</summary>
public sealed record VcpuFpuConfig(int Size, ulong Features);
