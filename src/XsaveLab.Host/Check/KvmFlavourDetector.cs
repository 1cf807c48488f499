namespace XsaveLab.Host.Check;

/// <summary>Derives the KVM flavour from what /dev/kvm reports: each capability upstream KVM would offer on this
/// CPU but the live KVM withholds, in the categories a paravirtual KVM (PVM) is known to prune.</summary>
public static class KvmFlavourDetector
{
    /// <summary>The kvm_pvm module is loaded.</summary>
    public static bool PvmLoaded() => Directory.Exists("/sys/module/kvm_pvm");

    public static KvmFlavour Derive(KvmCaps upstream, IReadOnlyList<CpuidEntry> upstreamCpuid, IReadOnlyList<KvmCpuidEntry> live, IReadOnlyCollection<uint> liveMsrs, bool pvmLoaded)
    {
        KvmCpuidEntry? L(uint f, uint i) => live.Where(e => e.Function == f && e.Index == i).Select(e => (KvmCpuidEntry?)e).FirstOrDefault();
        CpuidEntry? M(uint f, uint i) => upstreamCpuid.Where(e => e.Function == f && e.Index == i).Select(e => (CpuidEntry?)e).FirstOrDefault();

        const uint xsaveAvx = (1u << 26) | (1u << 28);
        bool leaf1 = (M(1, 0)?.Ecx & xsaveAvx ?? 0) != 0 && ((L(1, 0)?.Ecx ?? 0) & (M(1, 0)!.Value.Ecx & xsaveAvx)) == 0;
        bool d1 = upstream.D1Eax != 0 && (L(0xD, 1)?.Eax ?? 0) == 0;
        bool cetMsrs = liveMsrs.Any(m => m is >= Arch.Machine.Msr.IA32_U_CET and <= Arch.Machine.Msr.IA32_INT_SSP_TAB);
        bool cet = (upstream.Shstk || upstream.Ibt) && ((L(7, 0)?.Ecx ?? 0) & (1u << 7)) == 0 && ((L(7, 0)?.Edx ?? 0) & (1u << 20)) == 0 && !cetMsrs;
        bool xfd = upstream.Xfd && ((L(0xD, 1)?.Eax ?? 0) & 0x10) == 0;
        var m7 = SupportedCpuid.ModelledBits(7, 0);
        uint up7 = (M(7, 0)?.Ebx ?? 0) & m7.Ebx | (M(7, 0)?.Ecx ?? 0) & m7.Ecx & ~(1u << 7) | (M(7, 0)?.Edx ?? 0) & m7.Edx & ~(1u << 20);
        uint lv7 = (L(7, 0)?.Ebx ?? 0) & m7.Ebx | (L(7, 0)?.Ecx ?? 0) & m7.Ecx & ~(1u << 7) | (L(7, 0)?.Edx ?? 0) & m7.Edx & ~(1u << 20);
        bool leaf7 = up7 != 0 && lv7 == 0;
        if (!leaf1 && !d1 && !cet && !xfd && !leaf7)
            return KvmFlavour.Upstream;
        var prunes = KvmFlavour.Pvm.Prunes.Where((p, i) => i switch { 0 => leaf1, 1 => d1, 2 => cet, 3 => xfd, _ => leaf7 }).ToArray();
        return new KvmFlavour(pvmLoaded ? "pvm" : "unknown", leaf1, d1, cet, xfd, prunes, leaf7);
    }
}
