namespace XsaveLab.Kvm.Caps;

/// <summary>The KVM module release the model behaves like, set next to the kernel variant.</summary>
/// <remarks>≤6.17: <c>KVM_SUPPORTED_XSS</c> = 0 (no supervisor state for guests, no CET).
/// 6.18 (pull tag kvm-x86-cet-6.18): <c>KVM_SUPPORTED_XSS</c> = CET_USER | CET_KERNEL, SHSTK/IBT caps, CET MSRs,
/// XSS reported as to-be-saved (arch/x86/kvm/x86.c; docs/linux-fpu-core.md, "Versions and variants").</remarks>
public enum KvmRelease
{
    Kvm617,
    Kvm618,
}

public static class KvmReleases
{
    public static string Name(this KvmRelease r) => r == KvmRelease.Kvm617 ? "6.17" : "6.18";

    public static bool TryParse(string? s, out KvmRelease r)
    {
        switch (s?.Trim())
        {
            case "6.17" or "<=6.17" or "6.15" or "6.16":
                r = KvmRelease.Kvm617; return true;
            case "6.18" or "cet":
                r = KvmRelease.Kvm618; return true;
            default:
                r = KvmRelease.Kvm618; return false;
        }
    }

    public static bool HasCet(this KvmRelease r) => r >= KvmRelease.Kvm618;
}
