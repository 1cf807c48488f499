using XsaveLab.Arch.Layout;
using XsaveLab.Arch.Sanity;

namespace XsaveLab.Kvm.Migration;

/// <summary>A guest CPUID template that runs on every host of a pool with identical XSAVE layouts.</summary>
/// <param name="Hosts">The pool.</param>
/// <param name="Xcr0">The guest's XCR0 features.</param>
/// <param name="Xss">The guest's IA32_XSS features.</param>
/// <param name="Cpuid">The template: the first host's leaves with leaf 0xD cut to the template and the feature
/// bits of leaves 1 and 7 that gate the dropped components (or that some host lacks) cleared.</param>
/// <param name="Exposure">The <c>KVM_SET_CPUID2 expose=…</c> list that cuts KVM_GET_SUPPORTED_CPUID to the template.</param>
/// <param name="Dropped">Why each component some host offers is not in the template.</param>
public sealed record GuestTemplate(IReadOnlyList<MigrationHost> Hosts, ulong Xcr0, ulong Xss, CpuProfile Cpuid, string Exposure,
    IReadOnlyList<string> Dropped)
{
    /// <summary>The VMM script line (<c>kvm --vmm</c>) that gives a guest this template, after KVM_GET_SUPPORTED_CPUID.</summary>
    public string VmmLine => $"KVM_SET_CPUID2 expose={Exposure}";
}

/// <summary>The largest guest feature set a pool of hosts can all run with identical XSAVE layouts.</summary>
public static class GuestTemplates
{
    public static GuestTemplate Common(IReadOnlyList<CpuProfile> hosts, KernelVariant? variant = null, KvmRelease? release = null)
    {
        if (hosts.Count == 0)
            throw new ArgumentException("a pool needs at least one host", nameof(hosts));
        variant ??= KernelVariants.V6_17;
        var views = hosts.Select(h => MigrationHost.For(h, variant, release ?? KvmReleases.For(variant))).ToArray();
        var (x, s) = CommonMasks(views);
        var dropped = new List<string>();
        ulong offered = views.Aggregate(0UL, (m, h) => m | h.GuestXcr0 | h.GuestXss) & XFeatureMasks.Extend;
        for (int i = 2; i < 63; i++)
        {
            ulong bit = 1UL << i;
            if ((offered & bit) == 0 || ((x | s) & bit) != 0)
                continue;
            string name = XFeatureTable.Get(i, (views[0].Cpu.SupportedXss & bit) != 0).ShortName;
            var lacking = views.Where(h => ((h.GuestXcr0 | h.GuestXss) & bit) == 0).Select(h => h.Name).ToArray();
            var other = views.FirstOrDefault(h => ((h.GuestXcr0 | h.GuestXss) & bit) != 0
                && ComponentGeometry.Of(h.Cpu, i) != ComponentGeometry.Of(views.First(v => ((v.GuestXcr0 | v.GuestXss) & bit) != 0).Cpu, i));
            dropped.Add(lacking.Length > 0 ? $"{name}: not offered to guests on {string.Join(", ", lacking)}"
                : other is not null ? $"{name}: its layout differs on {other.Name}"
                : $"{name}: needs a component that is dropped (XSETBV / KVM rules)");
        }

        // Leaves 1/7: every listed feature bit some host lacks is cleared (with its dependents), then the gates of
        // the dropped components.
        var lackingBits = CpuidFeatureDeps.Bits.Where(b => views.Any(h => !Has(h.Cpu, b.Bit))).Select(b => b.Name).ToArray();
        var cut = CpuidMasking.Hide(views[0].Cpu, lackingBits, "common");
        var template = CpuidMasking.KeepComponents(cut, x | s, "common");
        template = new CpuProfile("common", $"common template of {string.Join(", ", views.Select(v => v.Name))}", template.Leaves);
        return new GuestTemplate(views, x, s, template, Exposure(x, s), dropped);
    }

    /// <summary>XCR0 and XSS a guest may have on every one of <paramref name="hosts"/> with identical layouts:
    /// the masks KVM offers on all, less every component whose CPUID 0xD.i (offset, size, alignment) differs
    /// between two hosts, closed under XSETBV's rules (<see cref="Xcr0Rules"/>) and KVM's CET pair rule.</summary>
    public static (ulong Xcr0, ulong Xss) CommonMasks(IReadOnlyList<MigrationHost> hosts)
    {
        ulong x = hosts.Aggregate(ulong.MaxValue, (m, h) => m & h.GuestXcr0);
        ulong s = hosts.Aggregate(ulong.MaxValue, (m, h) => m & h.GuestXss);
        for (int i = 2; i < 63; i++)
        {
            ulong bit = 1UL << i;
            if (((x | s) & bit) != 0 && hosts.Any(h => ComponentGeometry.Of(h.Cpu, i) != ComponentGeometry.Of(hosts[0].Cpu, i)))
            {
                x &= ~bit;
                s &= ~bit;
            }
        }
        return (Close(x), (s & KvmCaps.CetAll) == KvmCaps.CetAll ? s : s & ~KvmCaps.CetAll);
    }

    /// <summary>Whether a guest with <paramref name="xcr0"/> / <paramref name="xss"/> runs on every host with identical
    /// layouts: every bit offered everywhere, every component at the same place everywhere, XCR0 acceptable to XSETBV.</summary>
    public static bool Fits(IReadOnlyList<MigrationHost> hosts, ulong xcr0, ulong xss)
    {
        if (!Xcr0Rules.IsValid(xcr0) || (xss & KvmCaps.CetAll) is not (0 or KvmCaps.CetAll))
            return false;
        foreach (var h in hosts)
            if (!XFeatureMasks.IsSubset(xcr0, h.GuestXcr0) || !XFeatureMasks.IsSubset(xss, h.GuestXss))
                return false;
        ulong all = (xcr0 | xss) & XFeatureMasks.Extend;
        for (int i = 2; i < 63; i++)
            if ((all >> i & 1) != 0 && hosts.Any(h => ComponentGeometry.Of(h.Cpu, i) != ComponentGeometry.Of(hosts[0].Cpu, i)))
                return false;
        return true;
    }

    // Drop whatever XSETBV would refuse without a dropped partner: partial AVX-512, AVX-512 without AVX, half of
    // the MPX or AMX pairs.
    private static ulong Close(ulong x)
    {
        if ((x & XFeatureMasks.Avx512) != XFeatureMasks.Avx512 || (x & XFeatureMasks.Ymm) == 0)
            x &= ~XFeatureMasks.Avx512;
        if ((x & XFeatureMasks.Mpx) != XFeatureMasks.Mpx || (x & XFeatureMasks.Apx) != 0)
            x &= ~XFeatureMasks.Mpx;
        if ((x & XFeatureMasks.Xtile) != XFeatureMasks.Xtile)
            x &= ~XFeatureMasks.Xtile;
        if ((x & XFeatureMasks.Sse) == 0)
            x &= ~XFeatureMasks.Ymm;
        return x;
    }

    private static bool Has(CpuProfile cpu, CpuFeatureBit bit)
    {
        uint max = bit.Leaf >= 0x80000000 ? cpu.Leaf(0x80000000).Eax : cpu.Leaf(0).Eax;
        return bit.Leaf <= max && (cpu.Leaf(bit.Leaf, bit.Subleaf).Get(bit.Register) >> bit.Bit & 1) != 0;
    }

    /// <summary>The <see cref="CpuidExposure"/> list for the template: opt-in AMX and CET named when kept, every other
    /// group the KVM_SET_CPUID2 line can hide hidden when dropped.</summary>
    private static string Exposure(ulong x, ulong s)
    {
        var words = new List<string>();
        if ((x & XFeatureMasks.Xtile) != 0) words.Add("amx");
        if ((s & KvmCaps.CetAll) != 0) words.Add("cet");
        foreach (var (name, mask) in CpuidExposure.Hideable)
            if ((x & mask) == 0)
                words.Add("-" + name);
        return words.Count == 0 ? "none" : string.Join(',', words);
    }
}
