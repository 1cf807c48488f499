namespace XsaveLab.Kernel.Variants;

/// <summary>The parts of a model run a variant difference can change: what <c>boot</c>, <c>kvm</c> and <c>report</c>
/// compare between a variant and the landed one to tell which cited differences show on a CPU.</summary>
[Flags]
public enum VariantEffect
{
    /// <summary>Nothing a boot or a VMM sequence shows (a field never read, core-file notes).</summary>
    None = 0,

    /// <summary>The x86/fpu boot log lines.</summary>
    BootLog = 1,

    /// <summary>XCR0, IA32_XSS, <c>fpu_kernel_cfg</c> and <c>fpu_user_cfg</c>: what a host task holds and saves.</summary>
    HostState = 2,

    /// <summary>A guest fpstate (size and features at creation and later), <c>guest_default_cfg</c>, KVM's supported
    /// CPUID 0xD and the XSAVE2 size.</summary>
    GuestState = 4,

    /// <summary>What the permission calls (<c>arch_prctl</c>) and KVM ioctls of a VMM return.</summary>
    CallResults = 8,

    /// <summary>Kernel warnings (WARN_ON_ONCE) during a run.</summary>
    Warnings = 16,

    /// <summary>Any of them (a variant file's switch: its effect is not documented beforehand).</summary>
    Any = BootLog | HostState | GuestState | CallResults | Warnings,
}
