using XsaveLab.Arch.Layout;
using XsaveLab.Arch.Sanity;

namespace XsaveLab.Kvm.Migration;

/// <summary>What one host offers to the state that moves: the XCR0/XSS KVM lets a guest have (<see cref="KvmCaps"/>:
/// <c>kvm_caps.supported_xcr0</c>/<c>supported_xss</c>), the user xfeatures its kernel enables
/// (<c>fpu_user_cfg.max_features</c>), the standard-format size a process sees (CPUID 0xD.0 EBX, the NT_X86_XSTATE
/// length: <c>fpu_user_cfg.max_size</c>) and AT_MINSIGSTKSZ (<c>init_sigframe_size()</c>).</summary>
public sealed record MigrationHost(CpuProfile Cpu, ulong GuestXcr0, ulong GuestXss, uint GuestD1Eax, ulong UserXcr0, int UserSize, int MinSigStkSz)
{
    /// <summary>Boots <paramref name="variant"/> on <paramref name="cpu"/> and loads KVM <paramref name="release"/>.
    /// Callers check <see cref="KvmLimits.Problem"/> on input first.</summary>
    public static MigrationHost For(CpuProfile cpu, KernelVariant variant, KvmRelease release)
    {
        var host = HostFpuConfig.Boot(cpu, variant);
        var caps = KvmCaps.Create(host, release);
        return new MigrationHost(cpu, caps.SupportedXcr0, caps.SupportedXss, caps.D1Eax, host.UserMaxFeatures, host.UserMaxSize, host.System.MaxFrameSize);
    }

    public string Name => Cpu.Name;
}
