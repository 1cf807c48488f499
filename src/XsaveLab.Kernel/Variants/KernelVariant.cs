namespace XsaveLab.Kernel.Variants;

/// <summary>A named set of differences in the Linux FPU core around the CET supervisor state series
/// (docs/linux-fpu-core.md, "Versions and variants"). Every switch is data; the code paths consult it.</summary>
/// <remarks>Use <see cref="KernelVariants.Get"/> to select one by name.</remarks>
public sealed record KernelVariant
{
    public required string Name { get; init; }

    public required string Summary { get; init; }

    /// <summary>The kernel release whose FPU core the variant is (a design: the release it changes). A variant file
    /// takes its parent's. XsaveLab.Kvm pairs a host kernel with its KVM release from it.</summary>
    public string Release { get; init; } = DefaultRelease;

    private const string DefaultRelease = "6.17";

    /// <summary>Component 12 has a CPUID gate (SHSTK) and is in XFEATURE_MASK_SUPERVISOR_SUPPORTED;
    /// otherwise it is XFEATURE_CET_KERNEL_UNUSED in the unsupported mask (8b05b3c98816).</summary>
    public required bool CetKernelSupported { get; init; }

    /// <summary>Component 11 (CET_U, user shadow stacks) is in XFEATURE_MASK_SUPERVISOR_SUPPORTED with a SHSTK gate
    /// ("x86/fpu/xstate: Introduce CET MSR and XSAVES supervisor states", merged for 6.6); before, neither CET
    /// component is known and both names are "unknown xstate feature".</summary>
    public bool CetUserSupported { get; init; } = true;

    /// <summary>XFEATURE_MAX of the release: one past XFEATURE_APX since APX state was defined for 6.16, one past
    /// XFEATURE_XTILE_DATA before. <c>__xstate_dump_leaves()</c> prints sub-leaves 0 to XFEATURE_MAX + 9 of 0xD.</summary>
    public int XFeatureMax { get; init; } = XFeatureTable.Count;

    /// <summary>The <c>xfeature_names[12]</c> string.</summary>
    public required string CetKernelName { get; init; }

    /// <summary>XFEATURE_MASK_GUEST_SUPERVISOR (151bf232494d, filled by 8b05b3c98816): features only guest
    /// fpstates may hold. 0 where the concept does not exist.</summary>
    public required ulong GuestSupervisorMask { get; init; }

    /// <summary><c>host_default_mask()</c> removes the guest-only features from host defaults: the helper came with
    /// 7bc4ed75f2d6, the exclusion of XFEATURE_MASK_GUEST_SUPERVISOR with 151bf232494d (the one-line core of the
    /// optimisation).</summary>
    public required bool HostDefaultsExcludeGuestSupervisor { get; init; }

    /// <summary>Where a new guest fpstate is sized from.</summary>
    public required GuestStateSource GuestState { get; init; }

    /// <summary><c>struct vcpu_fpu_config guest_default_cfg</c> exists (7bc4ed75f2d6, 6.17): only where new guest
    /// fpstates are sized from it.</summary>
    public bool HasGuestDefaultCfg => GuestState == GuestStateSource.GuestDefaults;

    /// <summary>How <c>fpu->guest_perm</c> is initialised.</summary>
    public required GuestPermSource GuestPerm { get; init; }

    /// <summary><c>__xstate_request_perm()</c> keeps supervisor bits and flags (d8414603b29f). False: the
    /// old code ORs host supervisor bits for the size only, then stores <c>mask &amp; USER_SUPPORTED</c>.</summary>
    public required bool StatePermPreservesNonUser { get; init; }

    /// <summary><c>struct fpu_guest</c> still has the never-read <c>perm</c> field (removed by 32d5fa804dc9).</summary>
    public required bool FpuGuestHasPerm { get; init; }

    /// <summary>Guest-only features are not in a new guest fpstate; they are added by reallocation through
    /// an extended <c>fpu_enable_guest_xfd_features()</c> (Chang Bae's review of v3 9/10).</summary>
    public required bool DeferredGuestSupervisor { get; init; }

    /// <summary>WARN in <c>os_xsave()</c> when a non-guest fpstate's RFBM has a guest-only feature
    /// (v3 10/10, v4 8/8; dropped in v5).</summary>
    public bool WarnGuestOnlyInHostSave { get; init; }

    /// <summary><c>struct fpu</c> follows the task_struct in its slab object instead of ending
    /// <c>task_struct::thread</c> (81106b7e0b13, "x86/fpu: Make task_struct::thread constant size", 6.16).
    /// <c>arch_task_struct_size</c> is the same sum either way; the flag says how given struct sizes are read.</summary>
    public bool FpuAppendedToTask { get; init; } = true;

    /// <summary>Core files carry the NT_X86_XSAVE_LAYOUT note next to NT_X86_XSTATE (ba386777a30b, "x86/elf: Add a new FPU
    /// buffer layout info to x86 core files", merged for 6.12): <c>elf_coredump_extra_notes_write()</c> and
    /// <c>elf_coredump_extra_notes_size()</c>. Before it a debugger guesses the layout from XCR0 in sw_reserved.</summary>
    public bool WritesXsaveLayoutNote { get; init; } = true;

    /// <summary>The SLUB <c>calculate_order()</c> of the release (mm/slub.c; the 1/2-waste rules are 6.7+).</summary>
    public Memory.SlubOrderRules SlubOrder { get; init; } = Memory.SlubOrderRules.HalfWaste;

    /// <summary>The variant this one is described against (<see cref="VariantChanges"/>); null only for a variant
    /// built in code outside <see cref="KernelVariants"/>.</summary>
    public VariantNeighbour? Neighbour { get; init; }

    /// <summary>Each behaviour with its source.</summary>
    public required IReadOnlyList<VariantDifference> Differences { get; init; }

    /// <summary>XFEATURE_MASK_SUPERVISOR_SUPPORTED for this variant.</summary>
    public ulong SupervisorSupported =>
        XFeatureMasks.Pasid | (CetUserSupported ? XFeatureMasks.CetUser : 0) | (CetKernelSupported ? XFeatureMasks.CetKernel : 0);

    /// <summary>XFEATURE_MASK_SUPERVISOR_UNSUPPORTED: PT, plus CET_KERNEL where it is known but unsupported (6.6–6.16).</summary>
    public ulong SupervisorUnsupported => XFeatureMasks.Pt | (CetKernelSupported || !CetUserSupported ? 0 : XFeatureMasks.CetKernel);

    /// <summary>XFEATURE_MASK_FPSTATE = USER_RESTORE | SUPERVISOR_SUPPORTED: the RFBM of restores.</summary>
    public ulong FpstateMask => XFeatureMasks.UserRestore | SupervisorSupported;

    /// <summary><c>host_default_mask()</c> (6.17: ~(USER_DYNAMIC | GUEST_SUPERVISOR); before: ~USER_DYNAMIC).</summary>
    public ulong HostDefaultMask => ~(XFeatureMasks.UserDynamic | (HostDefaultsExcludeGuestSupervisor ? GuestSupervisorMask : 0));

    /// <summary><c>guest_default_mask()</c> = ~USER_DYNAMIC; under the deferred model a guest starts from
    /// host defaults.</summary>
    public ulong GuestDefaultMask => DeferredGuestSupervisor ? HostDefaultMask : ~XFeatureMasks.UserDynamic;

    /// <summary>The gate of component <paramref name="i"/> in <c>xsave_cpuid_features[]</c>, null when the
    /// entry is 0 (the bit is always cleared; x87 is special-cased by the caller).</summary>
    public CpuFeature? Gate(int i)
    {
        if (i == (int)XFeature.CetUser && !CetUserSupported)
            return null;
        if (i == (int)XFeature.CetKernel)
            return CetKernelSupported ? CpuFeature.Shstk : null;
        var info = XFeatureTable.Get(i);
        return info.KernelSupported ? info.Gate : null;
    }

    /// <summary>The <c>xfeature_names[]</c> entry printed at boot.</summary>
    public string BootName(int i) =>
        i == (int)XFeature.CetUser && !CetUserSupported ? XFeatureTable.UnknownName
        : i == (int)XFeature.CetKernel ? CetKernelName : (uint)i < XFeatureTable.Count ? XFeatureTable.Get(i).BootLogName : XFeatureTable.UnknownName;

    public override string ToString() => Name;
}
