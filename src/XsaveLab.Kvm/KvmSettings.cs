using XsaveLab.Arch.Cpuid;
using XsaveLab.Kvm.Caps;
using XsaveLab.Kernel.Variants;

namespace XsaveLab.Kvm;

/// <summary>Everything that decides what the modelled /dev/kvm answers: the CPU, the host kernel variant, the KVM
/// release and flavour, and the one processor value CPUID does not give (MXCSR_MASK, from FXSAVE).</summary>
public sealed record KvmSettings(CpuProfile Cpu, KernelVariant Kernel, KvmRelease Release, KvmFlavour Flavour, uint MxcsrMask)
{
    public static KvmSettings For(CpuProfile cpu, KernelVariant? kernel = null, KvmRelease release = KvmRelease.Kvm618,
        KvmFlavour? flavour = null, uint? mxcsrMask = null) =>
        new(cpu, kernel ?? KernelVariants.V6_17, release, flavour ?? KvmFlavour.Upstream, mxcsrMask ?? DefaultMxcsrMask(cpu));

    /// <summary>MXCSR_MASK as FXSAVE reports it: 0xFFFF (DAZ supported, every XSAVE-era CPU), plus bit 17 (MM,
    /// misaligned-SSE exception mask) on AMD parts with MisAlignSse (CPUID 0x80000001:ECX[7]).</summary>
    public static uint DefaultMxcsrMask(CpuProfile cpu)
    {
        uint mask = 0xFFFF;
        if (cpu.Vendor is CpuVendor.Amd or CpuVendor.Hygon && (cpu.Leaf(0x80000001).Ecx & (1u << 7)) != 0)
            mask |= 1u << 17;
        return mask;
    }

    public string Describe() => $"{Cpu.Name}, kernel {Kernel.Name}, KVM {Release.Name()} ({Flavour.Name})";
}
