namespace XsaveLab.Host.Check;

/// <summary>The KVM part of <c>host check</c>: the KVM model (this machine's CPU, kernel 6.17 FPU rules, KVM 6.18)
/// against /dev/kvm. The flavour (upstream or paravirtual) is derived from what /dev/kvm reports; each capability
/// the flavour withholds is listed as an explained difference with its cause, everything else must match.</summary>
/// <remarks>Probes create one VM and one vCPU per comparison and close them; no guest code runs, no process
/// state (guest permissions are not requested, so the process is left as it was).</remarks>
public sealed class KvmChecks : IHostCheckProvider
{
    public string Name => "kvm";

    private readonly string _path;

    public KvmChecks(string path = KvmDevice.DefaultPath) => _path = path;

    public IEnumerable<Observable> Run(HostCheckContext context) => Run(context.Cpu);

    /// <summary>Runs every KVM comparison for <paramref name="cpu"/> (this machine's CPUID profile).</summary>
    public IReadOnlyList<Observable> Run(Arch.Cpuid.CpuProfile cpu)
    {
        var list = new List<Observable>();
        using var dev = KvmDevice.TryOpen(out int errno, _path);
        if (dev is null)
        {
            list.Add(Observable.Skipped("kvm", $"cannot open {_path}: {ErrnoNames.Name(errno)}"));
            return list;
        }

        var liveCpuid = dev.GetSupportedCpuid();
        var liveMsrs = dev.GetMsrIndexList();
        if (!liveCpuid.Ok || liveCpuid.Data is null || !liveMsrs.Ok || liveMsrs.Data is null)
        {
            list.Add(Observable.Skipped("kvm", $"KVM_GET_SUPPORTED_CPUID {liveCpuid} / KVM_GET_MSR_INDEX_LIST {liveMsrs}"));
            return list;
        }

        var upstreamSettings = KvmSettings.For(cpu, KernelVariants.V6_17, KvmRelease.Kvm618, KvmFlavour.Upstream);
        var upstream = new KvmSystem(upstreamSettings);
        var upstreamCpuid = upstream.GetSupportedCpuid();
        var flavour = KvmFlavourDetector.Derive(upstream.Caps, upstreamCpuid, liveCpuid.Data, liveMsrs.Data, KvmFlavourDetector.PvmLoaded());
        var settings = upstreamSettings with { Flavour = flavour };
        var model = new KvmSystem(settings);
        string fl = flavour.Name;

        list.Add(new Observable("kvm flavour", "upstream", fl, flavour == KvmFlavour.Upstream ? ObservableStatus.Match
            : fl == "pvm" ? ObservableStatus.Explained : ObservableStatus.Mismatch,
            flavour == KvmFlavour.Upstream ? "" : fl == "pvm" ? "kvm_pvm is loaded: paravirtual KVM; the model runs with its prunes" : "capabilities withheld without a known cause"));
        foreach (var p in flavour.Prunes)
            list.Add(new Observable($"kvm flavour: {p.Capability}", "offered by upstream KVM", "withheld", fl == "pvm" ? ObservableStatus.Explained : ObservableStatus.Mismatch, p.Cause));

        // Capabilities.
        list.Add(Observable.Compare("KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) /dev/kvm", model.CheckExtension(KvmAbi.CapXsave2).Value, (long)dev.CheckExtension(KvmAbi.CapXsave2).Ret, v => v.ToString(), "max(xstate_required_size(filtered XCR0), 4096)"));
        var attr = dev.GetXcompGuestSupp();
        list.Add(attr.Ok
            ? Observable.Compare("KVM_GET_DEVICE_ATTR(KVM_X86_XCOMP_GUEST_SUPP)", model.Caps.XcompGuestSupp, attr.Data, Hex)
            : Observable.Skipped("KVM_GET_DEVICE_ATTR(KVM_X86_XCOMP_GUEST_SUPP)", attr.ToString()));

        // Supported CPUID: leaf 0xD entry by entry, leaves 1/7 on the bits the model computes.
        foreach (var m in model.GetSupportedCpuid())
        {
            var mask = SupportedCpuid.ModelledBits(m.Function, m.Index);
            var l = liveCpuid.Data.FirstOrDefault(e => e.Function == m.Function && e.Index == m.Index);
            string ms = $"{m.Eax & mask.Eax:x8} {m.Ebx & mask.Ebx:x8} {m.Ecx & mask.Ecx:x8} {m.Edx & mask.Edx:x8}";
            string ls = $"{l.Eax & mask.Eax:x8} {l.Ebx & mask.Ebx:x8} {l.Ecx & mask.Ecx:x8} {l.Edx & mask.Edx:x8}";
            list.Add(Observable.Compare($"KVM_GET_SUPPORTED_CPUID 0x{m.Function:x}.{m.Index} (eax ebx ecx edx)", ms, ls));
        }
        foreach (var l in liveCpuid.Data.Where(e => e.Function == 0xD && !model.GetSupportedCpuid().Any(m => m.Function == 0xD && m.Index == e.Index)))
            list.Add(Observable.Compare($"KVM_GET_SUPPORTED_CPUID 0xd.{l.Index}", "absent", $"{l.Eax:x8} {l.Ebx:x8} {l.Ecx:x8} {l.Edx:x8}"));

        // MSR index list.
        var modelMsrs = model.GetMsrIndexList();
        foreach (var msr in MsrNames.All)
            list.Add(Observable.Compare($"KVM_GET_MSR_INDEX_LIST has {MsrNames.Name(msr)}", modelMsrs.Contains(msr), liveMsrs.Data.Contains(msr), b => b ? "listed" : "not listed"));

        VcpuChecks(dev, model, liveCpuid.Data, list);
        return list;
    }

    /// <summary>The flavour of this machine's KVM for <paramref name="cpu"/> (its live CPUID), derived from what
    /// /dev/kvm reports; null with the reason when /dev/kvm cannot be read.</summary>
    public static KvmFlavour? DetectFlavour(Arch.Cpuid.CpuProfile cpu, out string reason, string path = KvmDevice.DefaultPath)
    {
        using var dev = KvmDevice.TryOpen(out int errno, path);
        if (dev is null)
        {
            reason = $"cannot open {path}: {ErrnoNames.Name(errno)}";
            return null;
        }
        var c = dev.GetSupportedCpuid();
        var m = dev.GetMsrIndexList();
        if (!c.Ok || c.Data is null || !m.Ok || m.Data is null)
        {
            reason = $"KVM_GET_SUPPORTED_CPUID {c} / KVM_GET_MSR_INDEX_LIST {m}";
            return null;
        }
        var up = new KvmSystem(KvmSettings.For(cpu));
        reason = "";
        return KvmFlavourDetector.Derive(up.Caps, up.GetSupportedCpuid(), c.Data, m.Data, KvmFlavourDetector.PvmLoaded());
    }

    private static string Hex(ulong v) => $"0x{v:x}";

    private static void VcpuChecks(KvmDevice dev, KvmSystem model, IReadOnlyList<KvmCpuidEntry> liveCpuid, List<Observable> list)
    {
        var vmr = dev.CreateVm();
        if (!vmr.Ok || vmr.Data is null)
        {
            list.Add(Observable.Skipped("KVM_CREATE_VM", vmr.ToString()));
            return;
        }
        using var vm = vmr.Data;
        var mvm = model.CreateVm();
        list.Add(Observable.Compare("KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) VM fd", mvm.CheckExtension(KvmAbi.CapXsave2).Value, (long)vm.CheckExtension(KvmAbi.CapXsave2).Ret, v => v.ToString()));
        var vr = vm.CreateVcpu(0);
        if (!vr.Ok || vr.Data is null)
        {
            list.Add(Observable.Skipped("KVM_CREATE_VCPU", vr.ToString()));
            return;
        }
        using var v = vr.Data;
        var (_, mv) = mvm.CreateVcpu(0);

        CompareImage("fresh vCPU", v, vm.Xsave2Size(), mv!, list);
        var xcr = v.GetXcrs();
        mv!.GetXcrs(out var mx);
        list.Add(Observable.Compare("KVM_GET_XCRS fresh vCPU", string.Join(",", mx.Select(p => $"XCR{p.Xcr}={Hex(p.Value)}")),
            xcr.Ok ? string.Join(",", xcr.Data!.Select(p => $"XCR{p.Xcr}={Hex(p.Value)}")) : xcr.ToString()));
        MsrChecks("fresh vCPU", v, mv, list);

        // Guest CPUID = the supported table (live on the live side, the model's on the model side).
        var sr = v.SetCpuid2(liveCpuid);
        var ms = mv.SetCpuid2(model.GetSupportedCpuid());
        list.Add(Observable.Compare("KVM_SET_CPUID2(supported table)", ms.Ok ? "0" : $"-{ms.Errno}", sr.Ok ? "0" : $"-{ErrnoNames.Name(sr.Errno)}"));
        CompareImage("after KVM_SET_CPUID2", v, vm.Xsave2Size(), mv, list);

        ulong xcr0 = mv.GuestSupportedXcr0;
        var lx = v.SetXcrs([new KvmXcr(0, xcr0)]);
        var mxr = mv.SetXcrs([(0u, xcr0)]);
        list.Add(Observable.Compare($"KVM_SET_XCRS XCR0={Hex(xcr0)}", mxr.Ok, lx.Ok, b => b ? "accepted" : "rejected"));
        MsrChecks("after KVM_SET_CPUID2", v, mv, list);
        SetXsaveChecks(v, vm.Xsave2Size(), mv, model, list);
    }

    private static void CompareImage(string when, KvmVcpuFd v, int size, KvmVcpu mv, List<Observable> list)
    {
        var live = v.GetXsave2(size);
        var mr = mv.GetXsave2(out var model);
        if (!live.Ok || live.Data is null || !mr.Ok)
        {
            list.Add(Observable.Compare($"KVM_GET_XSAVE2 {when}", mr.Ok ? "ok" : mr.ToString(), live.ToString()));
            return;
        }
        var l = live.Data;
        list.Add(Observable.Compare($"KVM_GET_XSAVE2 {when}: size", model.Length, l.Length, n => n.ToString()));
        void Region(string name, int from, int to)
        {
            to = Math.Min(to, Math.Min(l.Length, model.Length));
            var a = model.AsSpan(from, to - from);
            var b = l.AsSpan(from, to - from);
            int diff = a.CommonPrefixLength(b);
            string reason = name.StartsWith("legacy", StringComparison.Ordinal) ? "includes MXCSR_MASK (bytes 28-31): init_fpstate's FXSAVE value, which the model derives from the vendor and MisAlignSse" : "";
            list.Add(diff == a.Length
                ? new Observable($"KVM_GET_XSAVE2 {when}: {name}", "identical", "identical", ObservableStatus.Match, reason)
                : new Observable($"KVM_GET_XSAVE2 {when}: {name}", $"byte {from + diff} = 0x{a[diff]:x2}", $"byte {from + diff} = 0x{b[diff]:x2}", ObservableStatus.Mismatch, reason));
        }
        Region($"legacy area 0..{XsaveOffsets.SwReserved - 1}", 0, XsaveOffsets.SwReserved);
        Region($"sw_reserved {XsaveOffsets.SwReserved}..{XsaveOffsets.LegacySize - 1} (XCR0 at {XsaveOffsets.SwReserved})", XsaveOffsets.SwReserved, XsaveOffsets.LegacySize);
        Region($"header {XsaveOffsets.Header}..{XsaveOffsets.ExtendedStart - 1}", XsaveOffsets.Header, XsaveOffsets.ExtendedStart);
        Region($"extended area and tail {XsaveOffsets.ExtendedStart}..{l.Length - 1}", XsaveOffsets.ExtendedStart, l.Length);
        var g1 = v.GetXsave();
        var m1 = mv.GetXsave(out var mimg);
        list.Add(Observable.Compare($"KVM_GET_XSAVE {when}", m1.Ok ? (mimg.AsSpan().SequenceEqual(model.AsSpan(0, Math.Min(KvmAbi.XsaveStructSize, model.Length))) ? "same as XSAVE2" : "differs") : $"-{m1.Errno}",
            g1.Ok && g1.Data is not null ? (g1.Data.AsSpan().SequenceEqual(l.AsSpan(0, Math.Min(KvmAbi.XsaveStructSize, l.Length))) ? "same as XSAVE2" : "differs") : $"-{ErrnoNames.Name(g1.Errno)}"));
    }

    private static void MsrChecks(string when, KvmVcpuFd v, KvmVcpu mv, List<Observable> list)
    {
        foreach (var msr in MsrNames.All)
        {
            var l = v.GetMsr(msr);
            var m = mv.GetMsrs([msr], out var vals);
            list.Add(Observable.Compare($"KVM_GET_MSRS {MsrNames.Name(msr)} {when}",
                m.Value == 1 ? $"1 processed, {Hex(vals[0])}" : "0 processed",
                l.Ok && l.Ret == 1 ? $"1 processed, {Hex(l.Data)}" : l.Ok ? "0 processed" : l.ToString()));
        }
    }

    private static void SetXsaveChecks(KvmVcpuFd v, int size, KvmVcpu mv, KvmSystem model, List<Observable> list)
    {
        mv.GetXsave2(out var baseImg);
        void Try(string name, Action<byte[]> change)
        {
            var img = (byte[])baseImg.Clone();
            change(img);
            var m = mv.SetXsave(img);
            var l = v.SetXsave(img);
            list.Add(Observable.Compare($"KVM_SET_XSAVE {name}", m.Ok ? "accepted" : $"-{m.Errno}", l.Ok ? "accepted" : $"-{ErrnoNames.Name(l.Errno)}"));
        }
        void Bv(byte[] b, ulong bv) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(XsaveOffsets.XstateBv), bv);
        Try("unchanged image", _ => { });
        Try("XCOMP_BV compacted", b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(XsaveOffsets.XcompBv), XFeatureMasks.CompactedFormat | 3));
        Try("reserved header byte 530", b => b[530] = 1);
        Try("MXCSR 0xffffffff", b => { Bv(b, 3); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(XsaveOffsets.Mxcsr), 0xFFFFFFFF); });
        for (int i = 2; i < 20; i++)
            Try($"XSTATE_BV bit {i}", b => Bv(b, 1UL << i));

        // Seeded random valid images: set on both, read back on both, compare.
        const int seed = 0x5eed;
        var rng = new Random(seed);
        ulong allowed = mv.GuestSupportedXcr0 & mv.Fpu.FpState!.UserXfeatures;
        var cpu = model.Settings.Cpu;
        int mismatches = 0;
        string first = "";
        for (int n = 0; n < 64; n++)
        {
            var img = (byte[])baseImg.Clone();
            Array.Clear(img, XsaveOffsets.ExtendedStart, img.Length - XsaveOffsets.ExtendedStart);
            ulong bv = XFeatureMasks.FpSse | ((ulong)rng.NextInt64() & allowed);
            rng.NextBytes(img.AsSpan(0, 416));
            BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(XsaveOffsets.Mxcsr), (uint)rng.Next() & XsaveDataRules.DefaultMxcsrMask & model.Cpu.MxcsrMask);
            Bv(img, bv);
            for (int i = 2; i < 64; i++)
                if ((bv >> i & 1) != 0 && cpu.Component(i) is { StandardOffset: int off } c && off + c.Size <= img.Length)
                    rng.NextBytes(img.AsSpan(off, c.Size));
            var m = mv.SetXsave(img);
            var l = v.SetXsave(img);
            mv.GetXsave2(out var mb);
            var lb = v.GetXsave2(size);
            bool same = m.Ok == l.Ok && lb.Data is not null && mb.AsSpan().SequenceEqual(lb.Data);
            if (!same && mismatches++ == 0)
                first = $"image {n} (XSTATE_BV {Hex(bv)}): model {(m.Ok ? "accepted" : m.Errno.ToString())}, live {(l.Ok ? "accepted" : ErrnoNames.Name(l.Errno))}"
                    + (lb.Data is not null ? $", first differing byte {mb.AsSpan().CommonPrefixLength(lb.Data)}" : "");
        }
        list.Add(new Observable($"KVM_SET_XSAVE/GET_XSAVE2 round trip of 64 random valid images (seed {seed})",
            "64 identical", $"{64 - mismatches} identical", mismatches == 0 ? ObservableStatus.Match : ObservableStatus.Mismatch, first));
    }
}
