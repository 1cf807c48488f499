using System.Globalization;
using XsaveLab.Arch.Catalog;
using XsaveLab.Arch.Features;
using XsaveLab.Kernel.Variants;
using XsaveLab.Kvm.Abi;
using XsaveLab.Kvm.Caps;
using XsaveLab.Kvm.Guest;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Kvm.Script;

/// <summary>Runs a <see cref="VmmScript"/> against the KVM model: one VMM process (a <see cref="KvmSystem"/>), its VMs
/// and vCPUs, saved snapshots, and a new process for every <c>restore</c>.</summary>
public sealed class VmmRunner
{
    private readonly List<KvmStep> _steps = [];
    private readonly Dictionary<string, VcpuSnapshot> _snapshots = new(StringComparer.OrdinalIgnoreCase);
    private KvmSettings _settings;
    private KvmSystem? _sys;
    private KvmVm? _vm;
    private KvmVcpu? _vcpu;
    private IReadOnlyList<CpuidEntry>? _supported;
    private byte[]? _lastImage;
    private bool _skipNext;

    public VmmRunner(KvmSettings settings) => _settings = settings;

    public IReadOnlyList<KvmStep> Steps => _steps;
    public KvmSystem? System => _sys;
    public KvmSettings Settings => _settings;

    /// <summary>The first vCPU created by the last process (the one the report describes).</summary>
    public KvmVcpu? FirstVcpu { get; private set; }

    public IReadOnlyList<CpuidEntry>? LastSupportedCpuid => _supported;

    public static VmmRunner Run(VmmScript script, KvmSettings settings)
    {
        var r = new VmmRunner(settings);
        foreach (var line in script.Lines)
            r.Execute(line);
        return r;
    }

    private KvmSystem Sys => _sys ??= new KvmSystem(_settings);

    private void Execute(ScriptLine line)
    {
        if (line.Verb == "expect")
        {
            if (_skipNext) { _skipNext = false; return; }
            CheckExpect(line);
            return;
        }
        _skipNext = false;
        if (line.Condition is { } c && !Holds(c))
        {
            _skipNext = true;
            return;
        }
        var (res, text, guest) = Do(line);
        _steps.Add(new KvmStep(line.Number, line.Verb, string.Join(' ', line.Args), res, text, guest));
    }

    private bool Holds(string cond)
    {
        bool neg = cond.StartsWith('!');
        bool v = cond.TrimStart('!').ToLowerInvariant() switch
        {
            "amx" => (Sys.Host.UserMaxFeatures & XFeatureMasks.XtileData) != 0,
            "cet" => Sys.Caps.Shstk,
            "xfd" => Sys.Caps.Xfd,
            "guestxsave" => ((_supported ?? Sys.GetSupportedCpuid()).FirstOrDefault(e => e.Function == 1).Ecx & (1u << 26)) != 0,
            _ => Sys.Host.XsaveEnabled,
        };
        return v != neg;
    }

    private void CheckExpect(ScriptLine line)
    {
        if (_steps.Count == 0)
            return;
        var last = _steps[^1];
        string a = line.Args[0];
        bool ok;
        if (a.Equals("ok", StringComparison.OrdinalIgnoreCase))
            ok = last.Result.Ok && last.Guest.All(g => g.ExpectationFailure is null);
        else if (a.StartsWith("errno=", StringComparison.OrdinalIgnoreCase))
            ok = Enum.TryParse<Errno>(a[6..], true, out var e) && last.Result.Error == e;
        else if (a.StartsWith("value=", StringComparison.OrdinalIgnoreCase))
            ok = GuestOp.Num(a[6..], out var v) && last.Result.Ok && (ulong)last.Result.Value == v;
        else
            ok = (last.Text + " " + string.Join(" ", last.Guest)).Contains(a[9..], StringComparison.OrdinalIgnoreCase);
        _steps[^1] = last with { Expect = a, ExpectMet = ok };
    }

    private (SysResult, string, IReadOnlyList<GuestOutcome>) Do(ScriptLine l)
    {
        switch (l.Verb)
        {
            case "cpu":
                if (!CpuCatalog.TryGet(l.Args[0], out var cpu))
                    return (SysResult.Fail(Errno.EINVAL, $"no built-in CPU '{l.Args[0]}'"), "unknown CPU", []);
                _settings = KvmSettings.For(cpu, _settings.Kernel, _settings.Release, _settings.Flavour);
                return (SysResult.Success(), _settings.Describe(), []);
            case "kernel":
                if (KernelVariants.Find(l.Args[0]) is not { } kv)
                    return (SysResult.Fail(Errno.EINVAL, $"unknown kernel variant '{l.Args[0]}'"), "unknown variant", []);
                _settings = _settings with { Kernel = kv };
                return (SysResult.Success(), _settings.Describe(), []);
            case "kvm":
                if (!KvmReleases.TryParse(l.Args[0], out var rel))
                    return (SysResult.Fail(Errno.EINVAL, $"unknown KVM release '{l.Args[0]}'"), "unknown release", []);
                _settings = _settings with { Release = rel };
                return (SysResult.Success(), _settings.Describe(), []);
            case "flavour":
                if (!KvmFlavour.TryParse(l.Args[0], out var fl))
                    return (SysResult.Fail(Errno.EINVAL, $"unknown flavour '{l.Args[0]}'"), "unknown flavour", []);
                _settings = _settings with { Flavour = fl };
                return (SysResult.Success(), _settings.Describe(), []);
            case "arch_prctl":
            {
                int opt = VmmScript.ArchPrctlOption(l.Args[0])!.Value;
                ulong arg = l.Args.Count > 1 && GuestOp.Num(l.Args[1], out var a) ? a : 0;
                var r = Sys.ArchPrctl(opt, arg);
                string text = r.Ok && l.Args[0].Contains("GET", StringComparison.OrdinalIgnoreCase)
                    ? $"0x{r.Value:x} ({XFeatureTable.Describe((ulong)r.Value)})" : r.Detail;
                return (r, text, []);
            }
            case "KVM_CHECK_EXTENSION":
            {
                int cap = VmmScript.CapNumber(l.Args[0])!.Value;
                bool onVm = l.Args.Count == 2;
                if (onVm && _vm is null)
                    return (SysResult.Fail(Errno.EBADF, "no VM fd"), "no VM", []);
                var r = onVm ? _vm!.CheckExtension(cap) : Sys.CheckExtension(cap);
                return (r, $"{(onVm ? "VM fd" : "/dev/kvm")}: {r.Value}", []);
            }
            case "KVM_GET_SUPPORTED_CPUID":
            {
                _supported = Sys.GetSupportedCpuid();
                var d0 = _supported.FirstOrDefault(e => e.Function == 0xD && e.Index == 0);
                ulong x = d0.Eax | (ulong)d0.Edx << 32;
                return (SysResult.Success(_supported.Count), $"0xD.0 XCR0 0x{x:x} ({XFeatureTable.Describe(x)}), EBX {d0.Ebx}", []);
            }
            case "KVM_GET_DEVICE_ATTR":
            {
                var r = l.Args[0].Equals("KVM_X86_XCOMP_GUEST_SUPP", StringComparison.OrdinalIgnoreCase)
                    ? Sys.GetDeviceAttr(0, KvmAbi.XcompGuestSupp)
                    : Sys.GetDeviceAttr(0, 1);
                return (r, r.Ok ? $"0x{r.Value:x}" : r.Detail, []);
            }
            case "KVM_GET_MSR_INDEX_LIST":
            {
                var list = Sys.GetMsrIndexList();
                return (SysResult.Success(list.Count), list.Count == 0 ? "no XSAVE/CET MSR" : string.Join(", ", list.Select(MsrNames.Name)), []);
            }
            case "KVM_CREATE_VM":
                _vm = Sys.CreateVm();
                return (SysResult.Success(_vm.Id), $"VM {_vm.Id}", []);
            case "KVM_CREATE_VCPU":
            {
                if (_vm is null) return (SysResult.Fail(Errno.EBADF, "no VM fd"), "no VM", []);
                var (r, v) = _vm.CreateVcpu(int.Parse(l.Args[0], CultureInfo.InvariantCulture));
                if (v is not null)
                {
                    _vcpu = v;
                    FirstVcpu ??= v;
                }
                return (r, r.Detail, []);
            }
            case "vcpu":
            {
                var v = _vm?.Vcpu(int.Parse(l.Args[0], CultureInfo.InvariantCulture));
                if (v is null) return (SysResult.Fail(Errno.EBADF, "no such vCPU"), "no such vCPU", []);
                _vcpu = v;
                return (SysResult.Success(v.Id), $"vCPU {v.Id}", []);
            }
            case "KVM_DESTROY_VCPU":
            {
                if (_vcpu is null) return (SysResult.Fail(Errno.EBADF, "no vCPU fd"), "no vCPU", []);
                var r = _vcpu.Destroy();
                return (r, r.Ok ? "guest fpstate freed" : r.Detail, []);
            }
            case "save":
            {
                if (_vcpu is null) return (SysResult.Fail(Errno.EBADF, "no vCPU fd"), "no vCPU", []);
                var omit = l.Args.Skip(1).Where(a => a.StartsWith("omit=", StringComparison.OrdinalIgnoreCase))
                    .SelectMany(a => a[5..].Split(',')).Select(m => { MsrNames.TryParse(m, out var i); return i; }).ToArray();
                var snap = _vcpu.Save(omit);
                _snapshots[l.Args[0]] = snap;
                return (SysResult.Success(snap.Xsave.Length), $"XSAVE image {snap.Xsave.Length} bytes (XSTATE_BV 0x{snap.XstateBv:x}), XCR0 0x{snap.Xcrs.FirstOrDefault().Value:x}, MSRs: {string.Join(", ", snap.Msrs.Select(m => $"{MsrNames.Name(m.Index)}=0x{m.Value:x}"))}", []);
            }
            case "restore":
                return Restore(l);
            default:
                return VcpuCall(l);
        }
    }

    private (SysResult, string, IReadOnlyList<GuestOutcome>) VcpuCall(ScriptLine l)
    {
        if (_vcpu is null)
            return (SysResult.Fail(Errno.EBADF, "no vCPU fd"), "no vCPU", []);
        var v = _vcpu;
        switch (l.Verb)
        {
            case "KVM_SET_CPUID2":
            {
                var basis = _supported ?? Sys.GetSupportedCpuid();
                var exp = l.Args.Count == 0 ? CpuidExposure.All : CpuidExposure.Parse(l.Args[0][7..])!;
                var r = v.SetCpuid2(exp.Apply(basis));
                string notes = v.Notes.Count > 0 ? " | " + string.Join(" | ", v.Notes) : "";
                return (r, r.Detail + notes, []);
            }
            case "KVM_GET_CPUID2":
            {
                var r = v.GetCpuid2(out var e);
                var d0 = e.FirstOrDefault(x => x.Function == 0xD && x.Index == 0);
                return (r, $"{e.Count} entries, 0xD.0 EAX 0x{d0.Eax:x}", []);
            }
            case "KVM_RUN":
            {
                var rr = v.Run(l.Guest);
                return (rr.Result, rr.Result.Detail, rr.Guest);
            }
            case "KVM_GET_XSAVE" or "KVM_GET_XSAVE2":
            {
                var r = l.Verb == "KVM_GET_XSAVE" ? v.GetXsave(out var img) : v.GetXsave2(out img);
                if (!r.Ok)
                    return (r, r.Detail, []);
                _lastImage = img;
                ulong bv = BitConverter.ToUInt64(img, 512);
                return (SysResult.Success(img.Length), $"{img.Length} bytes, XSTATE_BV 0x{bv:x}, XCOMP_BV 0x{BitConverter.ToUInt64(img, 520):x}, sw_reserved[0] 0x{BitConverter.ToUInt64(img, 464):x}", []);
            }
            case "KVM_SET_XSAVE":
            {
                if (_lastImage is null)
                    v.GetXsave2(out _lastImage);
                var img = new byte[Math.Max(_lastImage.Length, v.Fpu.UabiSize)];
                _lastImage.CopyTo(img, 0);
                foreach (var a in l.Args)
                    XsaveMutation.Parse(a)!.Apply(img);
                var r = v.SetXsave(img);
                return (r, r.Ok ? $"XSTATE_BV 0x{BitConverter.ToUInt64(img, 512):x} accepted" : r.Detail, []);
            }
            case "KVM_GET_XCRS":
            {
                var r = v.GetXcrs(out var x);
                return (r, x.Count == 0 ? "none" : string.Join(", ", x.Select(p => $"XCR{p.Xcr}=0x{p.Value:x}")), []);
            }
            case "KVM_SET_XCRS":
            {
                GuestOp.Val(l.Args[0], out var val, out var fromCpuid);
                if (fromCpuid)
                    val |= v.Cpuid.Where(e => e.Function == 0xD && e.Index == 0).Select(e => e.Eax | (ulong)e.Edx << 32).FirstOrDefault();
                var r = v.SetXcrs([(0u, val)]);
                return (r, r.Detail, []);
            }
            case "KVM_GET_MSRS":
            {
                var idx = l.Args.Select(a => { MsrNames.TryParse(a, out var i); return i; }).ToArray();
                var r = v.GetMsrs(idx, out var vals);
                return (r, string.Join(", ", idx.Take((int)r.Value).Zip(vals).Select(p => $"{MsrNames.Name(p.First)}=0x{p.Second:x}")) + $" ({r.Value} of {idx.Length})", []);
            }
            case "KVM_SET_MSRS":
            {
                var cpuidXss = v.Cpuid.Where(e => e.Function == 0xD && e.Index == 1).Select(e => e.Ecx | (ulong)e.Edx << 32).FirstOrDefault();
                var msrs = l.Args.Select(a =>
                {
                    var kv = a.Split('=', 2);
                    MsrNames.TryParse(kv[0], out var i);
                    GuestOp.Val(kv[1], out var val, out var fc);
                    return (i, fc ? val | cpuidXss : val);
                }).ToArray();
                var r = v.SetMsrs(msrs);
                return (r, $"{r.Value} of {msrs.Length} written ({r.Detail})", []);
            }
            default:
                return (SysResult.Fail(Errno.ENOTTY, "not modelled"), "not modelled", []);
        }
    }

    /// <summary>A new VMM process restores a snapshot the way QEMU and the selftests do: guest permission when the
    /// saved CPUID has AMX, VM and vCPU, KVM_SET_CPUID2, CR4, KVM_SET_XCRS, KVM_SET_XSAVE (with a buffer of the new
    /// vCPU's uabi_size), KVM_SET_MSRS. Each is a step; the first failure ends the restore.</summary>
    private (SysResult, string, IReadOnlyList<GuestOutcome>) Restore(ScriptLine l)
    {
        if (!_snapshots.TryGetValue(l.Args[0], out var snap))
            return (SysResult.Fail(Errno.EINVAL, $"no snapshot '{l.Args[0]}'"), "no snapshot", []);
        var s = _settings;
        foreach (var a in l.Args.Skip(1))
        {
            var kv = a.Split('=', 2);
            switch (kv[0].ToLowerInvariant())
            {
                case "cpu":
                    if (!CpuCatalog.TryGet(kv[1], out var c)) return (SysResult.Fail(Errno.EINVAL, $"no built-in CPU '{kv[1]}'"), "unknown CPU", []);
                    s = KvmSettings.For(c, s.Kernel, s.Release, s.Flavour);
                    break;
                case "kernel":
                    if (KernelVariants.Find(kv[1]) is not { } k) return (SysResult.Fail(Errno.EINVAL, $"unknown kernel variant '{kv[1]}'"), "unknown variant", []);
                    s = s with { Kernel = k };
                    break;
                case "kvm":
                    if (!KvmReleases.TryParse(kv[1], out var rel)) return (SysResult.Fail(Errno.EINVAL, $"unknown release '{kv[1]}'"), "unknown release", []);
                    s = s with { Release = rel };
                    break;
                case "flavour":
                    KvmFlavour.TryParse(kv[1], out var f);
                    s = s with { Flavour = f };
                    break;
            }
        }
        _settings = s;
        _sys = new KvmSystem(s);
        _supported = null;
        FirstVcpu = null;
        void Sub(string ioctl, SysResult r, string text) => _steps.Add(new KvmStep(l.Number, ioctl, "(restore)", r, text, []));

        var d0 = snap.Cpuid.FirstOrDefault(e => e.Function == 0xD && e.Index == 0);
        if ((d0.Eax & XFeatureMasks.XtileData) != 0)
        {
            var p = _sys.ArchPrctl(XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm, 18);
            Sub("arch_prctl", p, "REQ_XCOMP_GUEST_PERM 18: " + p.Detail);
        }
        _vm = _sys.CreateVm();
        foreach (var (name, mem) in snap.Memory)
            _vm.GuestMemory[name] = (byte[])mem.Clone();
        Sub("KVM_CREATE_VM", SysResult.Success(_vm.Id), $"on {s.Describe()}");
        var (cr, v) = _vm.CreateVcpu(0);
        Sub("KVM_CREATE_VCPU", cr, cr.Detail);
        _vcpu = v;
        FirstVcpu = v;
        var r = v!.SetCpuid2(snap.Cpuid);
        Sub("KVM_SET_CPUID2", r, r.Detail);
        if (!r.Ok) return (r, "restore stopped", []);
        r = v.SetCr4OsXsave(snap.Cr4OsXsave);
        Sub("KVM_SET_SREGS", r, $"CR4.OSXSAVE = {(snap.Cr4OsXsave ? 1 : 0)}");
        if (!r.Ok) return (r, "restore stopped", []);
        r = v.SetXcrs(snap.Xcrs);
        Sub("KVM_SET_XCRS", r, r.Detail);
        if (!r.Ok) return (r, "restore stopped", []);
        var buf = new byte[Math.Max(v.Fpu.UabiSize, KvmAbi.XsaveStructSize)];
        int n = Math.Min(buf.Length, snap.Xsave.Length);
        snap.Xsave.AsSpan(0, n).CopyTo(buf);
        bool lost = snap.Xsave.AsSpan(n).IndexOfAnyExcept((byte)0) >= 0;
        r = v.SetXsave(buf);
        Sub("KVM_SET_XSAVE", r, (r.Ok ? $"{snap.Xsave.Length}-byte image into a {v.Fpu.UabiSize}-byte uabi buffer" : r.Detail)
            + (lost ? " | bytes past the destination's size were dropped" : ""));
        if (!r.Ok) return (r, "restore stopped", []);
        _lastImage = null;
        r = v.SetMsrs(snap.Msrs);
        Sub("KVM_SET_MSRS", r, $"{r.Value} of {snap.Msrs.Count} written ({r.Detail})");
        if (r.Value != snap.Msrs.Count) return (SysResult.Fail(Errno.EINVAL, "KVM_SET_MSRS did not take every MSR"), "restore stopped", []);
        return (SysResult.Success(), $"snapshot '{l.Args[0]}' from {snap.SourceCpu} restored on {s.Cpu.Name}", []);
    }
}
