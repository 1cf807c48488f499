namespace XsaveLab.Kernel.Variants;

/// <summary>The selectable variants: <c>6.15</c>, <c>6.16</c>, <c>6.17</c> (default, the landed series),
/// <c>case3</c>, <c>deferred</c>, and <c>v3</c>/<c>v4</c> where they differ from 6.17.</summary>
/// <remarks>Versions (docs/linux-fpu-core.md, "Versions and variants"): v5–v8 of the series behave like 6.17 (v8 landed); v3 and v4
/// differ only by the debug warning in <c>os_xsave()</c> (their guest-default containers
/// <c>fpu_guest_cfg</c> / <c>guest_default_features</c> hold the same values as 6.17's
/// <c>guest_default_cfg</c>); v1/v2 are the early CET-for-everyone form, modelled by <c>case3</c>.</remarks>
public static class KernelVariants
{
    public const string DefaultName = "6.17";

    private const string Guest17Name = "Control-flow Kernel registers (KVM only)";
    private const string UnusedName = "Control-flow Kernel registers (unused)";
    private const string PlainName = "Control-flow Kernel registers";

    /// <summary>Where a change of component 12's handling shows: its boot line and offsets, IA32_XSS and task sizes,
    /// guest fpstates and KVM's supported XSS, and the guest permission (which includes CET_KERNEL when supported).</summary>
    private const VariantEffect Component12 = VariantEffect.BootLog | VariantEffect.HostState | VariantEffect.GuestState | VariantEffect.CallResults;

    private static readonly VariantDifference
        CetUnsupported = new("component 12", "XFEATURE_CET_KERNEL_UNUSED: no CPUID gate, in SUPERVISOR_UNSUPPORTED, never enabled, name '(unused)'", "8b05b3c98816 (absent)", Component12),
        CetGuestOnly = new("component 12", "XFEATURE_CET_KERNEL gated on SHSTK, in SUPERVISOR_SUPPORTED and GUEST_SUPERVISOR, name '(KVM only)'", "8b05b3c98816, 151bf232494d", Component12),
        CetGuestOnlyEarly = new("component 12", "XFEATURE_CET_KERNEL gated on SHSTK, in SUPERVISOR_SUPPORTED and the guest-only set, name 'Control-flow Kernel registers' (no '(KVM only)')",
            "v4 3/8 <20250318153316.1970147-4-chao.gao@intel.com>", Component12),
        NoteLayout = new("core files", "NT_X86_XSAVE_LAYOUT note (offset and size of each xfeature) next to NT_X86_XSTATE", "ba386777a30b (tip x86-fpu-2024-09-17, merged for 6.12)"),
        NoNoteLayout = new("core files", "no NT_X86_XSAVE_LAYOUT note: debuggers guess the XSAVE layout from XCR0 in sw_reserved", "ba386777a30b (absent)"),
        PermBug = new("__xstate_request_perm", "mask |= supervisor bits for host size only, then __state_perm = mask & USER_SUPPORTED (supervisor bits and flags lost)", "d8414603b29f (absent)", VariantEffect.CallResults),
        PermFixed = new("__xstate_request_perm", "__state_perm = permitted | requested, supervisor bits and FPU_GUEST_PERM_LOCKED kept; user size from a masked copy", "d8414603b29f", VariantEffect.CallResults),
        GuestPermCopy = new("guest_perm", "fpstate_reset(): guest_perm = perm (same defaults for guests)", "7c2c89364d92 (absent)", VariantEffect.CallResults | VariantEffect.GuestState),
        GuestPermDefaults = new("guest_perm", "fpstate_reset(): guest_perm from guest_default_cfg (includes CET_KERNEL)", "7c2c89364d92", VariantEffect.CallResults | VariantEffect.GuestState),
        GuestKernelDefaults = new("guest fpstate", "fpu_alloc_guest_fpstate(): fpu_kernel_cfg.default_size/default_features", "1937e18cc3cf", VariantEffect.GuestState),
        GuestDefaults = new("guest fpstate", "fpu_alloc_guest_fpstate(): guest_default_cfg.size/features; __fpstate_reset() branches on is_guest", "509e880b7795, fafb29e18db2", VariantEffect.GuestState),
        HostMask = new("default features", "host_default_mask() = ~(USER_DYNAMIC | GUEST_SUPERVISOR); guest_default_mask() = ~USER_DYNAMIC",
            "7bc4ed75f2d6 (the two helpers, both ~USER_DYNAMIC), 151bf232494d (GUEST_SUPERVISOR out of host defaults)", VariantEffect.HostState | VariantEffect.GuestState),
        GuestPermField = new("fpu_guest", "has the never-read perm field: fpu_init_guest_permissions() stores the group leader's guest_perm at allocation (without FPU_GUEST_PERM_LOCKED)", "32d5fa804dc9 (absent)"),
        NoGuestPermField = new("fpu_guest", "no perm field; fpu_lock_guest_permissions() takes no argument", "32d5fa804dc9"),
        CetUserKnown = new("component 11", "XFEATURE_CET_USER gated on SHSTK and in SUPERVISOR_SUPPORTED: user shadow stack state in IA32_XSS and every task's fpstate",
            "x86/fpu/xstate: Introduce CET MSR and XSAVES supervisor states (x86/shstk, merged for 6.6)", VariantEffect.BootLog | VariantEffect.HostState | VariantEffect.GuestState);

    /// <summary>The guest side as the series left it: fixed permission requests, guest permissions and guest
    /// fpstates from <c>guest_default_cfg</c>, no <c>fpu_guest.perm</c>.</summary>
    private static readonly VariantDifference[] LandedGuestSide = [PermFixed, GuestPermDefaults, GuestDefaults, NoGuestPermField];

    /// <summary>Each variant below is the one before it with the patches that separate them.</summary>
    public static readonly KernelVariant V6_15 = new()
    {
        Name = "6.15",
        Release = "6.15",
        // 6.12 to 6.15 changes nothing the model covers, so the base of the series is shown against the release the
        // series' preparation landed in.
        Neighbour = new("6.16", "the next release"),
        XFeatureMax = (int)XFeature.Apx,
        Summary = "Before the series: CET_KERNEL unsupported, guest_perm copied from perm, __state_perm request bug, fpu_guest.perm.",
        Differences = [CetUnsupported, PermBug, GuestPermCopy, GuestKernelDefaults, GuestPermField, CetUserKnown],
        FpuAppendedToTask = false,
        CetKernelSupported = false,
        CetKernelName = UnusedName,
        GuestSupervisorMask = 0,
        HostDefaultsExcludeGuestSupervisor = false,
        GuestState = GuestStateSource.KernelDefaults,
        GuestPerm = GuestPermSource.CopyOfPerm,
        StatePermPreservesNonUser = false,
        FpuGuestHasPerm = true,
        DeferredGuestSupervisor = false,
    };

    /// <summary>6.15 with d8414603b29f and 32d5fa804dc9.</summary>
    public static readonly KernelVariant V6_16 = V6_15 with
    {
        Name = "6.16",
        Release = "6.16",
        Neighbour = new("6.15", "the release before"),
        XFeatureMax = (int)XFeature.Apx + 1,
        Summary = "The two preparatory patches: __state_perm keeps non-user bits, fpu_guest.perm dropped.",
        StatePermPreservesNonUser = true,
        FpuGuestHasPerm = false,
        Differences = [CetUnsupported, PermFixed, GuestPermCopy, GuestKernelDefaults, NoGuestPermField, CetUserKnown],
        FpuAppendedToTask = true,
    };

    /// <summary>6.16 with the six v8 patches that landed in 6.17.</summary>
    public static readonly KernelVariant V6_17 = V6_16 with
    {
        Name = "6.17",
        Release = "6.17",
        Neighbour = new("6.16", "the release before"),
        Summary = "The landed series: CET_KERNEL is a guest-only supervisor feature; host tasks do not allocate it, guest fpstates do.",
        CetKernelSupported = true,
        CetKernelName = Guest17Name,
        GuestSupervisorMask = XFeatureMasks.CetKernel,
        HostDefaultsExcludeGuestSupervisor = true,
        GuestState = GuestStateSource.GuestDefaults,
        GuestPerm = GuestPermSource.GuestDefaults,
        Differences = [CetGuestOnly, HostMask, .. LandedGuestSide, CetUserKnown],
    };

    public static readonly KernelVariant Case3 = V6_17 with
    {
        Name = "case3",
        Neighbour = new("6.17", "the landed design it is an alternative to"),
        Summary = "The series' case 3: CET_KERNEL supported and allocated in every task's default features (no guest-only set).",
        CetKernelName = PlainName,
        GuestSupervisorMask = 0,
        HostDefaultsExcludeGuestSupervisor = false,
        Differences =
        [
            new("component 12", "XFEATURE_CET_KERNEL gated on SHSTK and supported for every fpstate; name without '(KVM only)'",
                "v4 3/8 <20250318153316.1970147-4-chao.gao@intel.com>; cover letter case 3", Component12),
            new("default features", "host_default_mask() = ~USER_DYNAMIC: room for CET_KERNEL's 24 bytes in every task; XSAVES writes them only when CET_S is not in its initial state, which in a host task it always is (the init optimisation)",
                "cover letter case 3 (one-line change of 151bf232494d reverted)", VariantEffect.HostState),
            .. LandedGuestSide, CetUserKnown,
        ],
    };

    public static readonly KernelVariant Deferred = V6_17 with
    {
        Name = "deferred",
        Neighbour = new("6.17", "the landed design it is an alternative to"),
        Summary = "The review's alternative: guest fpstates start from host defaults; CET_KERNEL space is added by reallocation when a guest needs it.",
        GuestState = GuestStateSource.KernelDefaults,
        GuestPerm = GuestPermSource.PermPlusGuestSupervisor,
        DeferredGuestSupervisor = true,
        Differences =
        [
            CetGuestOnly, HostMask,
            new("guest fpstate", "fpu_alloc_guest_fpstate() from fpu_kernel_cfg defaults (no guest_default_cfg)",
                "Chang S. Bae on v3 9/10 <e15d1074-d5ec-431d-86e5-a58bc6297df8@intel.com>", VariantEffect.GuestState),
            new("guest_perm", "extrapolated from perm plus fpu_kernel_cfg.max_features & GUEST_SUPERVISOR",
                "Chang S. Bae on v3 9/10", VariantEffect.CallResults | VariantEffect.GuestState),
            new("reallocation", "fpu_enable_guest_xfd_features() extended to guest-only supervisor features (fpu_enable_dynamic_features())",
                "Chang S. Bae on v3 9/10", VariantEffect.GuestState),
            PermFixed, NoGuestPermField, CetUserKnown,
        ],
    };

    public static readonly KernelVariant V4 = V6_17 with
    {
        Name = "v4",
        Neighbour = new("6.17", "the revision that landed (v8)"),
        Summary = "Series v4: as 6.17 plus the debug WARN when a normal fpstate's XSAVE RFBM holds a guest-only feature.",
        WarnGuestOnlyInHostSave = true,
        // Posted in March 2025, before 81106b7e0b13 reached tip: struct fpu still ends task_struct::thread.
        FpuAppendedToTask = false,
        // v3 and v4 rename "(unused)" to the plain name; the landed 8b05b3c98816 adds "(KVM only)".
        CetKernelName = PlainName,
        Differences =
        [
            CetGuestOnlyEarly, .. V6_17.Differences.Skip(1),
            new("os_xsave()", "WARN if !fpstate->is_guest and RFBM & XFEATURE_MASK_SUPERVISOR_GUEST",
                "v4 8/8 <20250318153316.1970147-9-chao.gao@intel.com> (dropped in v5)", VariantEffect.Warnings),
        ],
    };

    public static readonly KernelVariant V3 = V4 with
    {
        Name = "v3",
        Neighbour = new("v4", "the next revision"),
        Summary = "Series v3 (fpu_guest_cfg, XFEATURE_MASK_KERNEL_DYNAMIC): as 6.17 plus the debug WARN on CET_KERNEL in normal fpstates.",
        Differences =
        [
            CetGuestOnlyEarly, .. V6_17.Differences.Skip(1),
            new("os_xsave()", "WARN if !fpstate->is_guest and RFBM has CET_KERNEL",
                "v3 10/10 <20250307164123.1613414-1-chao.gao@intel.com> series", VariantEffect.Warnings),
        ],
    };

    /// <summary>The long-term kernels fleets and VMMs run, newest first; each is its newer neighbour without the
    /// patches listed. All three carry the stable backport of 1937e18cc3cf (guest fpstate from kernel defaults) and
    /// b45f72177594 (XSTATE_BV cleared under XFD; a KVM release setting here), and predate d8414603b29f and
    /// 32d5fa804dc9 (6.16). XFD, AMX permissions (ARCH_REQ_XCOMP_PERM, 5.16) and KVM_CAP_XSAVE2 with
    /// ARCH_REQ_XCOMP_GUEST_PERM (5.17) are in all three.</summary>
    public static readonly KernelVariant V6_12 = V6_15 with
    {
        Name = "6.12",
        Release = "6.12",
        Neighbour = new("6.6", "the long-term release before"),
        Summary = "LTS 6.12: as 6.15 for the FPU core (CET_U for user shadow stacks, CET_KERNEL unused, __state_perm bug, fpu_guest.perm).",
        Differences = [.. V6_15.Differences, NoteLayout],
    };

    /// <summary>6.12 without ba386777a30b (NT_X86_XSAVE_LAYOUT in core files, merged for 6.12).</summary>
    public static readonly KernelVariant V6_6 = V6_12 with
    {
        Name = "6.6",
        Release = "6.6",
        Neighbour = new("6.1", "the long-term release before"),
        Summary = "LTS 6.6: user shadow stacks and CET_U in IA32_XSS are new; no NT_X86_XSAVE_LAYOUT note in core files.",
        // mm/slub.c calculate_order() before the 6.7 rework (min_objects loop, waste up to 1/4).
        SlubOrder = Memory.SlubOrderRules.MinObjectsLoop,
        WritesXsaveLayoutNote = false,
        Differences = [.. V6_15.Differences, NoNoteLayout],
    };

    /// <summary>6.6 without the user shadow stack series (6.6): no CET component is known to the FPU core.</summary>
    public static readonly KernelVariant V6_1 = V6_6 with
    {
        Name = "6.1",
        Release = "6.1",
        Neighbour = new("6.6", "the next long-term release (6.1 is the oldest modelled)"),
        Summary = "LTS 6.1: no CET state at all (CET_U and CET_KERNEL unknown, IA32_XSS without CET_U); XFD/AMX permissions present.",
        CetUserSupported = false,
        CetKernelName = XFeatureTable.UnknownName,
        Differences =
        [
            new("components 11, 12", "unknown to the FPU core: not in any supervisor mask, never enabled, both named 'unknown xstate feature'",
                "x86/fpu/xstate: Introduce CET MSR and XSAVES supervisor states (x86/shstk, merged for 6.6; absent)", Component12 | VariantEffect.HostState),
            .. V6_15.Differences.Skip(1).Where(d => d != CetUserKnown), NoNoteLayout,
        ],
    };

    /// <summary>All variants in display order.</summary>
    public static IReadOnlyList<KernelVariant> All { get; } = [V6_1, V6_6, V6_12, V6_15, V6_16, V6_17, Case3, Deferred, V3, V4];

    /// <summary>The long-term kernels.</summary>
    public static IReadOnlyList<KernelVariant> Lts { get; } = [V6_1, V6_6, V6_12];

    /// <summary>The variants the issue requires everywhere (without the v3/v4 debug forms).</summary>
    public static IReadOnlyList<KernelVariant> Main { get; } = [V6_15, V6_16, V6_17, Case3, Deferred];

    public static KernelVariant Default => V6_17;

    public static KernelVariant? Find(string name) =>
        All.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The variant named <paramref name="name"/>; throws <see cref="ArgumentException"/> listing the
    /// valid names otherwise.</summary>
    public static KernelVariant Get(string name) => Find(name)
        ?? throw new ArgumentException($"unknown kernel variant '{name}'; valid: {string.Join(", ", All.Select(v => v.Name))}", nameof(name));
}
