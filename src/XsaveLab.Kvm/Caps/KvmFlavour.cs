namespace XsaveLab.Kvm.Caps;

/// <summary>One capability a KVM flavour withholds compared with upstream KVM, and why.</summary>
public sealed record KvmPrune(string Capability, string Cause);

/// <summary>Which KVM implementation answers the ioctls: upstream KVM, or a paravirtual flavour (PVM) that runs
/// guests without hardware virtualization and withholds some capabilities.</summary>
/// <remarks>PVM (the kvm_pvm module) runs on top of a cloud VM: the supported CPUID it reports is pruned
/// (leaf 1 XSAVE/AVX bits, XSAVES/XSAVEC/XSAVEOPT/XGETBV1 in 0xD.1, SHSTK/IBT), it has no IA32_XSS for guests
/// and no CET MSRs; the XSAVE state ioctls still work (docs/host-interfaces.md, "KVM from managed code").</remarks>
public sealed record KvmFlavour(string Name, bool PruneLeaf1Xsave, bool PruneD1Eax, bool PruneCet, bool PruneXfd,
    IReadOnlyList<KvmPrune> Prunes, bool PruneLeaf7 = false)
{
    public static readonly KvmFlavour Upstream = new("upstream", false, false, false, false, [], false);

    public static readonly KvmFlavour Pvm = new("pvm", true, true, true, true,
    [
        new("CPUID.1:ECX XSAVE/AVX", "PVM reports a reduced leaf 1 (the VMM must set XSAVE/AVX in guest CPUID itself)"),
        new("CPUID.(0xd,1):EAX XSAVEOPT/XSAVEC/XGETBV1/XSAVES/XFD", "PVM reports no 0xd.1 capabilities, so no compacted size and no guest XSS"),
        new("SHSTK/IBT, IA32_XSS, CET MSRs", "PVM does not virtualize CET: supported_xss = 0 and no CET MSR is to-be-saved"),
        new("XFD", "without XFD in 0xd.1 there is no IA32_XFD/IA32_XFD_ERR for guests"),
        new("CPUID.7 MPX/AVX-512F/PKU/AMX bits", "PVM reports a reduced leaf 7 although leaf 0xd still enumerates those state components"),
    ], true);

    public static bool TryParse(string? s, out KvmFlavour f)
    {
        f = string.Equals(s, "pvm", StringComparison.OrdinalIgnoreCase) ? Pvm : Upstream;
        return s is null || string.Equals(s, "pvm", StringComparison.OrdinalIgnoreCase) || string.Equals(s, "upstream", StringComparison.OrdinalIgnoreCase);
    }

    public override string ToString() => Name;
}
