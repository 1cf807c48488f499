namespace XsaveLab.Kvm;

/// <summary>Everything that decides what the modelled /dev/kvm answers: the CPU, the host kernel variant, and the
/// KVM release and flavour.</summary>
public sealed record KvmSettings(CpuProfile Cpu, KernelVariant Kernel, KvmRelease Release, KvmFlavour Flavour)
{
    /// <summary>The settings for <paramref name="cpu"/>; without a <paramref name="release"/>, the KVM release the kernel
    /// variant pairs with (<see cref="KvmReleases.For"/>).</summary>
    public static KvmSettings For(CpuProfile cpu, KernelVariant? kernel = null, KvmRelease? release = null,
        KvmFlavour? flavour = null)
    {
        var k = kernel ?? KernelVariants.V6_17;
        return new(cpu, k, release ?? KvmReleases.For(k), flavour ?? KvmFlavour.Upstream);
    }

    /// <summary>The host kernel is built with CONFIG_X86_USER_SHADOW_STACK (<see cref="BootOptions.UserShadowStack"/>):
    /// on a 6.6+ variant and a CPU whose CET_U state the kernel manages, the VMM's tasks may enable user shadow
    /// stacks and ptrace has NT_X86_SHSTK. Off by default, as the kernel's own default (arch/x86/Kconfig).</summary>
    public bool UserShadowStack { get; init; }

    public string Describe() => $"{Cpu.Name}, kernel {Kernel.Name}{(UserShadowStack ? " user_shstk" : "")}, KVM {Release.Name()} ({Flavour.Name})";
}
