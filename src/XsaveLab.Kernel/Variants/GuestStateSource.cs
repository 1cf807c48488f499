namespace XsaveLab.Kernel.Variants;

/// <summary>Where <c>fpu_alloc_guest_fpstate()</c> takes a new guest fpstate's size and features from.</summary>
public enum GuestStateSource : byte
{
    /// <summary><c>fpu_kernel_cfg.default_size/default_features</c> (6.15 after 1937e18cc3cf and the
    /// "Fix inconsistencies in guest FPU xfeatures" patch; 6.16).</summary>
    KernelDefaults,

    /// <summary><c>guest_default_cfg.size/features</c> (6.17, 509e880b7795).</summary>
    GuestDefaults,
}

/// <summary>How <c>fpstate_reset()</c> initialises <c>fpu->guest_perm</c>.</summary>
public enum GuestPermSource : byte
{
    /// <summary><c>fpu->guest_perm = fpu->perm</c> ("same defaults for guests", ≤6.16).</summary>
    CopyOfPerm,

    /// <summary>From <c>guest_default_cfg</c> (6.17, 7c2c89364d92): includes the guest-only supervisor features.</summary>
    GuestDefaults,

    /// <summary>The review's alternative: the host permission extrapolated with the guest-only features
    /// the kernel supports (<c>fpu_kernel_cfg.max_features &amp; GUEST_SUPERVISOR</c>), so a later
    /// reallocation is permitted.</summary>
    PermPlusGuestSupervisor,
}
