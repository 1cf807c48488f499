namespace XsaveLab.Kvm;

/// <summary>Everything that decides what the modelled /dev/kvm answers: the CPU, the host kernel variant, and the
/// KVM release and flavour.</summary>
public sealed record KvmSettings(CpuProfile Cpu, KernelVariant Kernel, KvmRelease Release, KvmFlavour Flavour)
{
    public static KvmSettings For(CpuProfile cpu, KernelVariant? kernel = null, KvmRelease release = KvmRelease.Kvm618,
        KvmFlavour? flavour = null) =>
        new(cpu, kernel ?? KernelVariants.V6_17, release, flavour ?? KvmFlavour.Upstream);

    public string Describe() => $"{Cpu.Name}, kernel {Kernel.Name}, KVM {Release.Name()} ({Flavour.Name})";
}
