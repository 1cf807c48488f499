namespace XsaveLab.Arch.Features;

/// <summary>How Linux 6.17 (x86-64) classes a component: the kernel's mask that names it
/// (arch/x86/include/asm/fpu/xstate.h <c>XFEATURE_MASK_USER_SUPPORTED</c>,
/// <c>XFEATURE_MASK_SUPERVISOR_SUPPORTED</c>, <c>XFEATURE_MASK_INDEPENDENT</c>).</summary>
public enum XFeatureLinuxClass : byte
{
    /// <summary>In <c>XFEATURE_MASK_USER_SUPPORTED</c>.</summary>
    UserSupported,

    /// <summary>In <c>XFEATURE_MASK_SUPERVISOR_SUPPORTED</c>.</summary>
    SupervisorSupported,

    /// <summary>In <c>XFEATURE_MASK_SUPERVISOR_SUPPORTED</c> and in <c>XFEATURE_MASK_GUEST_SUPERVISOR</c>:
    /// <c>host_default_mask()</c> keeps it out of the host's default features, so only guest fpstates hold it
    /// (CET_S, v6.17).</summary>
    SupervisorGuestOnly,

    /// <summary>In <c>XFEATURE_MASK_INDEPENDENT</c>: saved only by explicit calls (arch LBR).</summary>
    Independent,

    /// <summary>Never enabled by the kernel (PT, reserved numbers).</summary>
    Unsupported,
}
