namespace XsaveLab.Kvm.Caps;

/// <summary>The KVM module release the model behaves like, set next to the kernel variant (by default the one the
/// variant pairs with, <see cref="KvmReleases.For"/>).</summary>
/// <remarks>LTS 6.1, 6.6 and 6.12 (their current stable trees): KVM_CAP_XSAVE2 and KVM_GET_XSAVE2
/// (be50b2065dfa, 5.17), guest permissions with ARCH_REQ_XCOMP_GUEST_PERM (980fe2fddcff, 5.17), XFD for guests
/// (5.17); <c>KVM_SUPPORTED_XSS</c> = 0 (no guest CET); and the stable backport of b45f72177594 (6.1.y 4a40791c69fc,
/// 6.6.y a7a7458148c8 in 6.6.122, 6.12.y).
/// ≤6.17: <c>KVM_SUPPORTED_XSS</c> = 0 (no supervisor state for guests, no CET).
/// 6.18 (pull tag kvm-x86-cet-6.18): <c>KVM_SUPPORTED_XSS</c> = CET_USER | CET_KERNEL, SHSTK/IBT caps, CET MSRs,
/// XSS reported as to-be-saved (arch/x86/kvm/x86.c; docs/linux-fpu-core.md, "Versions and variants").
/// 6.19: 6.18 with b45f72177594 ("x86/fpu: Clear XSTATE_BV[i] in guest XSAVE state whenever XFD[i]=1", also in
/// 6.18.6 and the LTS stable trees): KVM_SET_XSAVE drops XSTATE_BV bits the guest's XFD disables, and
/// <c>fpu_update_guest_xfd()</c> clears them in a guest fpstate that is not in the registers.</remarks>
public enum KvmRelease
{
    Kvm601,
    Kvm606,
    Kvm612,
    Kvm617,
    Kvm618,
    Kvm619,
}

public static class KvmReleases
{
    /// <summary>The names <c>--kvm</c> and scripts accept.</summary>
    public static IReadOnlyList<string> Names { get; } = ["6.1", "6.6", "6.12", "6.17", "6.18", "6.19"];

    public static string Name(this KvmRelease r) => r switch
    {
        KvmRelease.Kvm601 => "6.1",
        KvmRelease.Kvm606 => "6.6",
        KvmRelease.Kvm612 => "6.12",
        KvmRelease.Kvm617 => "6.17",
        KvmRelease.Kvm618 => "6.18",
        _ => "6.19",
    };

    public static bool TryParse(string? s, out KvmRelease r)
    {
        switch (s?.Trim())
        {
            case "6.1":
                r = KvmRelease.Kvm601; return true;
            case "6.6":
                r = KvmRelease.Kvm606; return true;
            case "6.12":
                r = KvmRelease.Kvm612; return true;
            case "6.17" or "<=6.17" or "6.15" or "6.16":
                r = KvmRelease.Kvm617; return true;
            case "6.18" or "6.18.0" or "cet":
                r = KvmRelease.Kvm618; return true;
            case "6.19" or "6.18.6":
                r = KvmRelease.Kvm619; return true;
            default:
                r = KvmRelease.Kvm618; return false;
        }
    }

    /// <summary>The KVM release a host kernel variant runs with unless one is named: a long-term kernel its own
    /// release's KVM (<see cref="KernelVariant.Release"/> 6.1, 6.6, 6.12); 6.15 to 6.17 and the designs around the
    /// series KVM 6.18, the release whose CET virtualization (kvm-x86-cet-6.18) the series prepared the FPU core for.</summary>
    public static KvmRelease For(KernelVariant kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return kernel.Release switch
        {
            "6.1" => KvmRelease.Kvm601,
            "6.6" => KvmRelease.Kvm606,
            "6.12" => KvmRelease.Kvm612,
            _ => KvmRelease.Kvm618,
        };
    }

    /// <summary>The long-term releases (their stable trees).</summary>
    public static bool IsLts(this KvmRelease r) => r is KvmRelease.Kvm601 or KvmRelease.Kvm606 or KvmRelease.Kvm612;

    /// <summary>Guest CET (KVM_SUPPORTED_XSS = CET_USER | CET_KERNEL, the CET MSRs): 6.18.</summary>
    public static bool HasCet(this KvmRelease r) => r >= KvmRelease.Kvm618;

    /// <summary>KVM_GET_ONE_REG, KVM_SET_ONE_REG and KVM_GET_REG_LIST on x86, and KVM_CAP_ONE_REG = 1 (6.18, "KVM: x86:
    /// Introduce KVM_{G,S}ET_ONE_REG uAPIs support" in the CET series). Before, x86's <c>kvm_arch_vcpu_ioctl()</c> has
    /// no case for them and answers -EINVAL.</summary>
    public static bool HasOneReg(this KvmRelease r) => r >= KvmRelease.Kvm618;

    /// <summary>b45f72177594: XSTATE_BV bits under the guest's XFD are cleared before they can reach an XRSTOR in
    /// the host (before it, such a restore takes #NM in the kernel: "unexpected #NM exception"). In 6.19, 6.18.6 and
    /// the LTS stable trees.</summary>
    public static bool ClearsXfdDisabledState(this KvmRelease r) => r >= KvmRelease.Kvm619 || r.IsLts();
}
