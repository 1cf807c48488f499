namespace XsaveLab.Kvm.Script;

/// <summary>The built-in VMM sequences: how QEMU and Firecracker start a guest, a migration between two CPUs, and the
/// known pitfalls with the outcome the real kernel gives.</summary>
/// <remarks>QEMU: target/i386/kvm/kvm.c (<c>kvm_request_xsave_components()</c> before the first
/// KVM_GET_SUPPORTED_CPUID; XSAVE2-sized buffers). Firecracker: src/vmm/src/arch/x86_64/xstate.rs
/// (<c>request_dynamic_xstate_features()</c>), vcpu.rs (KVM_CAP_XSAVE2 size). Pitfalls: docs/vmm-pitfalls.md
/// (Firecracker PRs #5065 and #5972, Cloud Hypervisor PR #7534).</remarks>
public static class BuiltinScripts
{
    public const string Qemu = """
        # QEMU-like start: guest permission for AMX before anything reads KVM_GET_SUPPORTED_CPUID
        arch_prctl GET_XCOMP_SUPP
        when amx: arch_prctl REQ_XCOMP_GUEST_PERM 18
        expect ok
        arch_prctl GET_XCOMP_GUEST_PERM
        KVM_CHECK_EXTENSION KVM_CAP_XSAVE2
        KVM_GET_DEVICE_ATTR KVM_X86_XCOMP_GUEST_SUPP
        KVM_GET_SUPPORTED_CPUID
        KVM_GET_MSR_INDEX_LIST
        KVM_CREATE_VM
        KVM_CHECK_EXTENSION KVM_CAP_XSAVE2 vm
        KVM_CREATE_VCPU 0
        KVM_SET_CPUID2 expose=all
        expect ok
        KVM_GET_XSAVE2
        KVM_SET_XCRS 1
        KVM_SET_XSAVE
        expect ok
        when guestxsave: KVM_RUN guest: cr4.osxsave; xsetbv cpuid => ok; write ymm
        when !guestxsave: KVM_RUN guest: cr4.osxsave => #GP; xsetbv 1 => #UD
        when cet: KVM_RUN guest: wrmsr IA32_XSS cpuid => ok; wrmsr IA32_U_CET 1 => ok; wrmsr IA32_PL0_SSP 0xffff800000001000 => ok; wrmsr IA32_S_CET 1 => ok
        when amx: KVM_RUN guest: ldtilecfg; tileloadd => ok
        KVM_GET_XSAVE2
        KVM_GET_XCRS
        KVM_GET_MSRS IA32_XSS
        """;

    public const string Firecracker = """
        # Firecracker-like start: request_dynamic_xstate_features(), then KVM_GET_SUPPORTED_CPUID, xsave2_size from the VM fd
        arch_prctl GET_XCOMP_SUPP
        when amx: arch_prctl REQ_XCOMP_GUEST_PERM 18
        KVM_GET_SUPPORTED_CPUID
        KVM_CREATE_VM
        KVM_CHECK_EXTENSION KVM_CAP_XSAVE2 vm
        KVM_CREATE_VCPU 0
        KVM_SET_CPUID2 expose=all
        expect ok
        KVM_SET_MSRS IA32_XSS=0
        when guestxsave: KVM_RUN guest: cr4.osxsave; xsetbv cpuid => ok
        when !guestxsave: KVM_RUN guest: cr4.osxsave => #GP
        KVM_GET_XSAVE2
        KVM_GET_XCRS
        save snapshot
        restore snapshot
        KVM_GET_XSAVE2
        """;

    public const string Migrate = """
        # Save/restore between two CPU profiles (destination given by 'restore … cpu=')
        when amx: arch_prctl REQ_XCOMP_GUEST_PERM 18
        KVM_GET_SUPPORTED_CPUID
        KVM_CREATE_VM
        KVM_CREATE_VCPU 0
        KVM_SET_CPUID2 expose=all
        KVM_RUN guest: cr4.osxsave; xsetbv cpuid; write ymm
        when amx: KVM_RUN guest: ldtilecfg; tileloadd
        KVM_GET_XSAVE2
        save migration
        restore migration cpu=emr
        KVM_GET_XSAVE2
        restore migration cpu=icx
        """;

    public const string PermAfterCpuid = """
        # Pitfall: guest permission for AMX requested after KVM_GET_SUPPORTED_CPUID: the table read first has no AMX
        # Kernels: 5.17 and later (guest permissions): KVM_GET_SUPPORTED_CPUID reports only what is permitted at the time of the call
        # Shows: KVM_SET_CPUID2 succeeds, then the guest's XSETBV with the AMX bits #GPs
        KVM_GET_SUPPORTED_CPUID
        expect contains=XCR0
        arch_prctl REQ_XCOMP_GUEST_PERM 18
        expect ok
        KVM_CREATE_VM
        KVM_CREATE_VCPU 0
        KVM_SET_CPUID2 expose=all
        expect ok
        KVM_GET_XSAVE2
        KVM_RUN guest: cr4.osxsave; xsetbv cpuid|0x60000 => #GP
        """;

    public const string PermAfterVcpu = """
        # Pitfall: guest permission for AMX requested after the first vCPU exists
        # Kernels: 5.17 and later: fpu_alloc_guest_fpstate() locks the guest permissions (FPU_GUEST_PERM_LOCKED, 980fe2fddcff)
        # Shows: arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM) returns -EBUSY and the guest permission stays without AMX
        KVM_CREATE_VM
        KVM_CREATE_VCPU 0
        arch_prctl REQ_XCOMP_GUEST_PERM 18
        expect errno=EBUSY
        arch_prctl GET_XCOMP_GUEST_PERM
        """;

    public const string TilecfgOnly = """
        # Pitfall: TILECFG exposed without TILEDATA in guest CPUID 0xd
        # Kernels: every kernel: the rule is the CPU's (SDM Vol.2 XSETBV: XCR0 bits 17 and 18 must be equal)
        # Shows: the guest's XSETBV of its CPUID XCR0 #GPs and XCR0 stays at x87 only
        arch_prctl REQ_XCOMP_GUEST_PERM 18
        KVM_GET_SUPPORTED_CPUID
        KVM_CREATE_VM
        KVM_CREATE_VCPU 0
        KVM_SET_CPUID2 expose=tilecfg
        expect ok
        KVM_RUN guest: cr4.osxsave; xsetbv cpuid => #GP; xgetbv => 0x1
        """;

    public const string GetXsaveOnAmx = """
        # Pitfall: a 4096-byte KVM_GET_XSAVE on a vCPU with AMX exposed
        # Kernels: 5.17 and later (KVM_CAP_XSAVE2): once KVM_SET_CPUID2 gives the guest AMX its fpstate outgrows struct kvm_xsave
        # Shows: KVM_GET_XSAVE returns -EINVAL; KVM_GET_XSAVE2 with KVM_CAP_XSAVE2 bytes is needed
        arch_prctl REQ_XCOMP_GUEST_PERM 18
        KVM_GET_SUPPORTED_CPUID
        KVM_CREATE_VM
        KVM_CREATE_VCPU 0
        KVM_GET_XSAVE
        expect ok
        KVM_SET_CPUID2 expose=all
        KVM_GET_XSAVE
        expect errno=EINVAL
        KVM_GET_XSAVE2
        expect ok
        """;

    public const string SnapshotWithoutXss = """
        # Pitfall: a snapshot without IA32_XSS restored into a guest using CET
        # Kernels: KVM 6.18 and later offering CET to guests (host kernel 6.17 and later, whose guest fpstates hold CET_KERNEL)
        # Shows: the restore succeeds, then the guest kernel's XRSTORS #GPs ("Bad FPU state detected at restore_fpregs_from_fpstate")
        KVM_GET_SUPPORTED_CPUID
        KVM_CREATE_VM
        KVM_CREATE_VCPU 0
        KVM_SET_CPUID2 expose=all
        KVM_RUN guest: cr4.osxsave; xsetbv cpuid; wrmsr IA32_XSS cpuid => ok; wrmsr IA32_U_CET 1 => ok; wrmsr IA32_PL3_SSP 0x7fff0000 => ok; xsaves task cpuid => ok
        save snap omit=IA32_XSS
        restore snap
        expect ok
        KVM_RUN guest: rdmsr IA32_XSS => 0; xrstors task cpuid => #GP
        """;

    public const string SnapshotWithoutSsp = """
        # Pitfall: a snapshot without the guest's SSP (KVM_REG_GUEST_SSP) taken while a guest task runs on its shadow stack
        # Kernels: KVM 6.18 and later offering SHSTK to guests: the current SSP is in the VMCS (GUEST_SSP) or the VMCB save area, reachable only with KVM_GET_ONE_REG
        # Shows: the restore succeeds; the task's SSP is the new vCPU's reset value 0, so its next RET's shadow-stack pop takes #PF and the guest kernel kills it
        KVM_GET_SUPPORTED_CPUID
        KVM_CREATE_VM
        KVM_CREATE_VCPU 0
        KVM_SET_CPUID2 expose=all
        KVM_RUN guest: cr4.osxsave; xsetbv cpuid; wrmsr IA32_XSS cpuid => ok; shstk_enable shstk => ok; cpl 3; call 0x401000 => ok; call 0x402000 => ok; ret 0x402000 => ok
        KVM_GET_REG_LIST
        save snap omit=ssp
        restore snap
        expect ok
        KVM_GET_ONE_REG KVM_REG_GUEST_SSP
        KVM_RUN guest: ret 0x401000 => #PF
        """;

    /// <summary>Built-in name → (script, what the CPU needs).</summary>
    public static readonly IReadOnlyDictionary<string, (string Text, string Needs)> All = new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase)
    {
        ["qemu"] = (Qemu, "xsave"),
        ["firecracker"] = (Firecracker, "xsave"),
        ["migrate"] = (Migrate, "xsave"),
        ["pitfall-perm-after-cpuid"] = (PermAfterCpuid, "amx"),
        ["pitfall-perm-after-vcpu"] = (PermAfterVcpu, "amx"),
        ["pitfall-tilecfg-only"] = (TilecfgOnly, "amx"),
        ["pitfall-get-xsave"] = (GetXsaveOnAmx, "amx"),
        ["pitfall-snapshot-without-xss"] = (SnapshotWithoutXss, "cet"),
        ["pitfall-snapshot-without-ssp"] = (SnapshotWithoutSsp, "cet"),
    };

    /// <summary>Why built-in <paramref name="name"/> does not apply to <paramref name="sys"/>'s CPU and KVM, or null.</summary>
    public static string? Unmet(string name, Vm.KvmSystem sys) => All.TryGetValue(name, out var s) ? s.Needs switch
    {
        "amx" when (sys.Host.UserMaxFeatures & Arch.Features.XFeatureMasks.XtileData) == 0 => $"'{name}' needs a CPU with AMX and XFD (e.g. spr, emr)",
        "cet" when !sys.Caps.Shstk => $"'{name}' needs KVM 6.18 offering CET (a CPU with SHSTK and XSAVES, kernel 6.17+, upstream flavour; e.g. spr)",
        _ => null,
    } : null;

    /// <summary>The headline of built-in pitfall <paramref name="name"/> (its first comment lines), or null for a
    /// sequence that is not a pitfall.</summary>
    public static PitfallHeadline? Headline(string name) => All.TryGetValue(name, out var s) ? PitfallHeadline.Read(s.Text) : null;

    /// <summary>The text of built-in <paramref name="name"/> as a script file to start from (<c>kvm --vmm NAME --print</c>):
    /// it parses back to the same lines.</summary>
    public static string Template(string name) => All.TryGetValue(name, out var s)
        ? s.Text + "\n"
        : throw new ArgumentException($"no built-in VMM sequence '{name}'; known: {string.Join(", ", All.Keys)}", nameof(name));

    public static VmmScript Get(string name) => All.TryGetValue(name, out var s)
        ? VmmScript.Parse(s.Text, "builtin:" + name.ToLowerInvariant())
        : throw new ArgumentException($"no built-in VMM sequence '{name}'; known: {string.Join(", ", All.Keys)}", nameof(name));
}
