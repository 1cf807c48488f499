namespace XsaveLab.Kvm.Script;

/// <summary>Runs a <see cref="VmmScript"/> against the KVM model: one VMM process (a <see cref="KvmSystem"/>), its VMs
/// and vCPUs, saved snapshots, and a new process for every <c>restore</c>. It executes the typed calls the parser
/// built and never reads script text.</summary>
public sealed partial class VmmRunner
{
    // Not readonly: Clone() replaces them in its copy (VmmRunner.Clone.cs).
    private List<KvmStep> _steps = [];
    private Dictionary<string, VcpuSnapshot> _snapshots = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, CpuProfile> _snapshotCpus = new(StringComparer.OrdinalIgnoreCase);
    private bool _flavourNamed;
    private KvmSettings _settings;
    private KvmSystem? _sys;
    private KvmVm? _vm;
    private KvmVcpu? _vcpu;
    private IReadOnlyList<CpuidEntry>? _supported;
    private byte[]? _lastImage;
    private bool _skipNext;

    public VmmRunner(KvmSettings settings) => _settings = settings;

    /// <summary>A runner whose first VMM process comes from <paramref name="newSystem"/> (e.g. one sharing an
    /// already booted host configuration); <c>restore</c> still boots its own.</summary>
    public VmmRunner(KvmSettings settings, Func<KvmSettings, KvmSystem> newSystem)
    {
        _settings = settings;
        _newSystem = newSystem;
    }

    private readonly Func<KvmSettings, KvmSystem>? _newSystem;

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

    private KvmSystem Sys => _sys ??= NewProcess(_newSystem?.Invoke(_settings) ?? new KvmSystem(_settings));

    /// <summary>The current VM (null before KVM_CREATE_VM).</summary>
    public KvmVm? Vm => _vm;

    /// <summary>The image the last KVM_GET_XSAVE/2 returned (what a bare KVM_SET_XSAVE writes back).</summary>
    public ReadOnlySpan<byte> LastImage => _lastImage;

    /// <summary>Runs one parsed line (the way <see cref="Run"/> runs each line of a script).</summary>
    public void Execute(ScriptLine line)
    {
        if (line.Call is VmmCall.Expect expect)
        {
            if (_skipNext) { _skipNext = false; return; }
            CheckExpect(expect);
            return;
        }
        _skipNext = false;
        if (line.Condition is { } c && !Holds(c))
        {
            _skipNext = true;
            return;
        }
        var (res, text, guest) = line.Call switch
        {
            VmmCall.SetCpu or VmmCall.SetKernel or VmmCall.SetRelease or VmmCall.SetFlavour or VmmCall.Restore => Do(line),
            _ when TaskCall(line.Call) is { } done => done,
            _ when VmmGone(line.Call) is { } gone => gone,
            _ => Do(line),
        };
        var step = new KvmStep(line.Number, line.Verb, string.Join(' ', line.Args), res, text, guest);
        if (res.Ok && OutputKind(line.Call) is { } hex)
            step = step with
            {
                Result = SysResult.Success(0, res.Rule),
                Output = res.Value,
                OutputText = hex ? $"0x{res.Value:x}" : res.Value.ToString(CultureInfo.InvariantCulture),
            };
        _steps.Add(step);
    }

    /// <summary>Calls that return 0 and write their answer to the caller's memory: true when that answer is a
    /// feature mask (printed in hex), false for a count or size, null for calls whose return value is the answer.
    /// arch_prctl's GET requests end in put_user() (fpu_xstate_prctl(), arch/x86/kernel/fpu/xstate.c);
    /// KVM_GET_DEVICE_ATTR likewise (kvm_x86_dev_get_attr()); KVM_GET_SUPPORTED_CPUID, KVM_GET_MSR_INDEX_LIST,
    /// KVM_GET_CPUID2, KVM_GET_XSAVE2 and KVM_GET_XCRS copy a structure out and return 0 (kvm_arch_dev_ioctl(),
    /// kvm_arch_vcpu_ioctl(), arch/x86/kvm/x86.c). KVM_CHECK_EXTENSION and KVM_GET_MSRS return their answer.</summary>
    private static bool? OutputKind(VmmCall call) => call switch
    {
        VmmCall.ArchPrctl { IsGet: true } or VmmCall.GetDeviceAttr or VmmCall.GetOneReg or VmmCall.PtraceShstk { Ssp: null } => true,
        VmmCall.GetSupportedCpuid or VmmCall.GetMsrIndexList or VmmCall.GetCpuid2 or VmmCall.GetXsave or VmmCall.GetXcrs or VmmCall.GetRegList => false,
        _ => null,
    };

    private bool Holds(ScriptCondition cond)
    {
        bool v = cond.Kind switch
        {
            ConditionKind.Amx => (Sys.Host.UserMaxFeatures & XFeatureMasks.XtileData) != 0,
            ConditionKind.Cet => Sys.Caps.Shstk,
            ConditionKind.Xfd => Sys.Caps.Xfd,
            ConditionKind.GuestXsave => ((_supported ?? Sys.GetSupportedCpuid()).FirstOrDefault(e => e.Function == 1).Ecx & (1u << 26)) != 0,
            _ => Sys.Host.XsaveEnabled,
        };
        return v != cond.Negated;
    }

    private void CheckExpect(VmmCall.Expect x)
    {
        if (_steps.Count == 0)
            return;
        var last = _steps[^1];
        bool ok = x.Kind switch
        {
            ExpectKind.Ok => last.Result.Ok && last.Guest.All(g => g.ExpectationFailure is null),
            ExpectKind.Errno => last.Result.Errno == x.Errno,
            ExpectKind.Value => last.Result.Ok && (ulong)(last.Output ?? last.Result.Value) == x.Value,
            _ => (last.Text + " " + string.Join(" ", last.Guest)).Contains(x.Text[9..], StringComparison.OrdinalIgnoreCase),
        };
        _steps[^1] = last with { Expect = x.Text, ExpectMet = ok };
    }

    private static (SysResult, string, IReadOnlyList<GuestOutcome>) Done(SysResult r, string text) => (r, text, []);

    private static (SysResult, string, IReadOnlyList<GuestOutcome>) NoFd(string what) =>
        Done(SysResult.Fail(Errno.EBADF, $"no {what} fd"), $"no {what}");

    private (SysResult, string, IReadOnlyList<GuestOutcome>) Do(ScriptLine l)
    {
        switch (l.Call)
        {
            case VmmCall.SetCpu c:
                // Another CPU is another host: its KVM is upstream unless the script names the flavour.
                var flavour = _flavourNamed ? _settings.Flavour : KvmFlavour.Upstream;
                _settings = KvmSettings.For(c.Cpu, _settings.Kernel, _settings.Release, flavour) with { UserShadowStack = _settings.UserShadowStack };
                return Done(SysResult.Success(), _settings.Describe());
            case VmmCall.SetKernel k:
                _settings = _settings with { Kernel = k.Kernel, UserShadowStack = k.UserShadowStack };
                return Done(SysResult.Success(), _settings.Describe());
            case VmmCall.SetRelease r:
                _settings = _settings with { Release = r.Release };
                return Done(SysResult.Success(), _settings.Describe());
            case VmmCall.SetFlavour f:
                _flavourNamed = true;
                _settings = _settings with { Flavour = f.Flavour };
                return Done(SysResult.Success(), _settings.Describe());
            case VmmCall.CheckExtension ce:
                {
                    if (ce.OnVm && _vm is null)
                        return NoFd("VM");
                    var r = ce.OnVm ? _vm!.CheckExtension(ce.Capability) : Sys.CheckExtension(ce.Capability);
                    return Done(r, $"{(ce.OnVm ? "VM fd" : "/dev/kvm")}: {Numbers.Int(r.Value)}");
                }
            case VmmCall.GetSupportedCpuid:
                {
                    _supported = Sys.GetSupportedCpuid();
                    var d0 = _supported.FirstOrDefault(e => e.Function == 0xD && e.Index == 0);
                    ulong x = d0.Eax | (ulong)d0.Edx << 32;
                    return Done(SysResult.Success(_supported.Count), $"0xd.0 XCR0 0x{x:x} ({XFeatureTable.Describe(x)}), EBX {Numbers.Int(d0.Ebx)}");
                }
            case VmmCall.GetDeviceAttr da:
                {
                    var r = Sys.GetDeviceAttr(KvmAbi.GroupSystem, da.Attribute);
                    return Done(r, r.Ok ? XFeatureTable.Describe((ulong)r.Value) : r.Rule);
                }
            case VmmCall.GetMsrIndexList:
                {
                    var list = Sys.GetMsrIndexList();
                    return Done(SysResult.Success(list.Count), list.Count == 0 ? "no XSAVE/CET MSR" : string.Join(", ", list.Select(MsrNames.Name)));
                }
            case VmmCall.CreateVm:
                _vm = Sys.CreateVm();
                _vmMm = _mm;
                return Done(SysResult.Success(_vm.Id), $"VM {_vm.Id}");
            case VmmCall.CreateVcpu cv:
                {
                    if (_vm is null) return NoFd("VM");
                    var (r, v) = _vm.CreateVcpu(cv.Id);
                    if (v is not null)
                    {
                        _vcpu = v;
                        FirstVcpu ??= v;
                    }
                    return Done(r, r.Rule);
                }
            case VmmCall.SelectVcpu sv:
                {
                    var v = _vm?.Vcpu(sv.Id);
                    if (v is null) return Done(SysResult.Fail(Errno.EBADF, "no such vCPU"), "no such vCPU");
                    _vcpu = v;
                    return Done(SysResult.Success(v.Id), $"vCPU {v.Id}");
                }
            case VmmCall.DestroyVcpu:
                {
                    if (_vcpu is null) return NoFd("vCPU");
                    var r = _vcpu.Destroy();
                    return Done(r, r.Ok ? "guest fpstate freed" : r.Rule);
                }
            case VmmCall.Save s:
                {
                    if (_vcpu is null) return NoFd("vCPU");
                    var (r, snap) = _vcpu.Save(s.Omit, s.OmitRegs);
                    if (snap is null)
                        return Done(r, r.Rule);
                    _snapshots[s.Name] = snap;
                    _snapshotCpus[s.Name] = _settings.Cpu;
                    return Done(SysResult.Success(snap.Xsave.Length), $"XSAVE image {Numbers.Bytes(snap.Xsave.Length)}, XSTATE_BV 0x{snap.XstateBv:x}, XCR0 0x{snap.Xcrs.FirstOrDefault().Value:x}, MSRs: {string.Join(", ", snap.Msrs.Select(m => $"{MsrNames.Name(m.Index)}=0x{m.Value:x}"))}"
                        + $", ONE_REG: {(snap.Regs.Count == 0 ? "none" : string.Join(", ", snap.Regs.Select(g => $"{KvmVcpu.RegName(g.Id)}=0x{g.Value:x}")))}");
                }
            case VmmCall.Restore rs:
                return Restore(l.Number, rs);
            default:
                return VcpuCall(l.Call);
        }
    }

    private (SysResult, string, IReadOnlyList<GuestOutcome>) VcpuCall(VmmCall call)
    {
        if (_vcpu is null)
            return NoFd("vCPU");
        var v = _vcpu;
        switch (call)
        {
            case VmmCall.SetCpuid2 sc:
                {
                    var r = v.SetCpuid2(sc.Exposure.Apply(_supported ?? Sys.GetSupportedCpuid()));
                    string notes = v.Notes.Count > 0 ? " | " + string.Join(" | ", v.Notes) : "";
                    return Done(r, r.Rule + notes);
                }
            case VmmCall.GetCpuid2:
                {
                    var r = v.GetCpuid2(out var e);
                    var d0 = e.FirstOrDefault(x => x.Function == 0xD && x.Index == 0);
                    return Done(r, $"{e.Count} entries, 0xd.0 EAX 0x{d0.Eax:x}");
                }
            case VmmCall.Run run:
                {
                    var rr = v.Run(run.Guest);
                    return (rr.Result, rr.Result.Rule, rr.Guest);
                }
            case VmmCall.GetXsave gx:
                {
                    var r = gx.Xsave2 ? v.GetXsave2(out var img) : v.GetXsave(out img);
                    if (!r.Ok)
                        return Done(r, r.Rule);
                    _lastImage = img;
                    ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv));
                    return Done(SysResult.Success(img.Length), $"{Numbers.Bytes(img.Length)}, XSTATE_BV 0x{bv:x}, XCOMP_BV 0x{BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(XsaveOffsets.XcompBv)):x}, sw_reserved[0] 0x{BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(XsaveOffsets.SwReserved)):x}");
                }
            case VmmCall.SetXsave sx:
                return SetXsave(v, sx);
            case VmmCall.GetXcrs:
                {
                    var r = v.GetXcrs(out var x);
                    return Done(r, x.Count == 0 ? "none" : string.Join(", ", x.Select(p => $"XCR{p.Xcr}=0x{p.Value:x}")));
                }
            case VmmCall.SetXcrs sx:
                {
                    ulong val = sx.Value;
                    if (sx.FromCpuid)
                        val |= v.Cpuid.Where(e => e.Function == 0xD && e.Index == 0).Select(e => e.Eax | (ulong)e.Edx << 32).FirstOrDefault();
                    var r = v.SetXcrs([(0u, val)]);
                    return Done(r, r.Rule);
                }
            case VmmCall.GetMsrs gm:
                {
                    var idx = gm.Msrs.ToArray();
                    var r = v.GetMsrs(idx, out var vals);
                    return Done(r, string.Join(", ", idx.Take((int)r.Value).Zip(vals).Select(p => $"{MsrNames.Name(p.First)}=0x{p.Second:x}")) + $" ({r.Value} of {idx.Length})");
                }
            case VmmCall.SetMsrs sm:
                {
                    var cpuidXss = v.Cpuid.Where(e => e.Function == 0xD && e.Index == 1).Select(e => e.Ecx | (ulong)e.Edx << 32).FirstOrDefault();
                    var msrs = sm.Msrs.Select(m => (m.Index, m.FromCpuid ? m.Value | cpuidXss : m.Value)).ToArray();
                    var r = v.SetMsrs(msrs);
                    return Done(r, $"{r.Value} of {msrs.Length} written ({r.Rule})");
                }
            case VmmCall.Init:
                {
                    var r = v.Init();
                    return Done(r, r.Rule);
                }
            case VmmCall.GetOneReg g:
                {
                    var r = v.GetOneReg(g.Id, out var val);
                    return Done(r.Ok ? SysResult.Success((long)val, r.Rule) : r, $"{KvmVcpu.RegName(g.Id)} (id 0x{g.Id:x}): {r.Rule}");
                }
            case VmmCall.SetOneReg so:
                {
                    var r = v.SetOneReg(so.Id, so.Value);
                    return Done(r, $"{KvmVcpu.RegName(so.Id)} (id 0x{so.Id:x}): {r.Rule}");
                }
            case VmmCall.GetRegList gl:
                {
                    // Without a capacity the VMM asks with n = 0 for the count and then again with room for it
                    // (the selftests' vcpu_get_reg_list()).
                    var r = v.GetRegList(gl.Capacity ?? 0, out var count, out var ids);
                    if (gl.Capacity is null && r.Errno == Errno.E2BIG)
                        r = v.GetRegList(count, out count, out ids);
                    string list = ids.Count == 0 ? "no KVM-defined register" : string.Join(", ", ids.Select(i => $"{KvmVcpu.RegName(i)} (0x{i:x})"));
                    return Done(r.Ok ? SysResult.Success((long)count, r.Rule) : r, r.Ok ? $"n = {count}: {list}" : r.Rule);
                }
            default:
                return Done(SysResult.Fail(Errno.ENOTTY, "not modelled"), "not modelled");
        }
    }

    /// <summary>KVM_SET_XSAVE with the last image read (or a fresh KVM_GET_XSAVE2 one), changed as the line says, in a
    /// buffer of the vCPU's uabi_size. A change past the end of that buffer is the VMM writing outside its own
    /// memory: the call is not made and the step fails with -EFAULT, as copy_from_user() would for a buffer that
    /// does not hold the bytes.</summary>
    private (SysResult, string, IReadOnlyList<GuestOutcome>) SetXsave(KvmVcpu v, VmmCall.SetXsave sx)
    {
        if (_lastImage is null)
        {
            var g = v.GetXsave2(out var fresh);
            if (!g.Ok)
                return Done(g, g.Rule);
            _lastImage = fresh;
        }
        var img = new byte[Math.Max(_lastImage.Length, v.Fpu.UabiSize)];
        _lastImage.CopyTo(img, 0);
        foreach (var m in sx.Changes)
            if (!m.FitsIn(img.Length))
                return Done(SysResult.Fail(Errno.EFAULT, $"{m.Field}@{m.Offset} lies beyond the {Numbers.Int(img.Length)}-byte image"), $"change {m.Field}@{m.Offset} lies beyond the {Numbers.Int(img.Length)}-byte image");
        foreach (var m in sx.Changes)
            m.Apply(img);
        var r = v.SetXsave(img);
        return Done(r, r.Ok ? $"XSTATE_BV 0x{BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512)):x} accepted" : r.Rule);
    }

    /// <summary>A new VMM process restores a snapshot the way QEMU and the selftests do: guest permission when the
    /// saved CPUID has AMX, VM and vCPU, KVM_SET_CPUID2, CR4, KVM_SET_XCRS, KVM_SET_XSAVE (with a buffer of the new
    /// vCPU's uabi_size), KVM_SET_MSRS. Each is a step; the first failure ends the restore.</summary>
    private (SysResult, string, IReadOnlyList<GuestOutcome>) Restore(int lineNumber, VmmCall.Restore rs)
    {
        if (!_snapshots.TryGetValue(rs.Name, out var snap))
            return Done(SysResult.Fail(Errno.EINVAL, $"no snapshot '{rs.Name}'"), "no snapshot");
        var s = _settings;
        if (rs.Cpu is { } cpu)
            s = KvmSettings.For(cpu, s.Kernel, s.Release, _flavourNamed ? s.Flavour : KvmFlavour.Upstream) with { UserShadowStack = s.UserShadowStack };
        if (rs.Kernel is { } k)
            s = s with { Kernel = k };
        if (rs.Release is { } rel)
            s = s with { Release = rel };
        if (rs.Flavour is { } f)
            s = s with { Flavour = f };
        _settings = s;
        _sys = NewProcess(new KvmSystem(s));
        _supported = null;
        FirstVcpu = null;
        void Sub(string ioctl, SysResult r, string text) => _steps.Add(new KvmStep(lineNumber, ioctl, "(restore)", r, text, []));

        var d0 = snap.Cpuid.FirstOrDefault(e => e.Function == 0xD && e.Index == 0);
        if ((d0.Eax & XFeatureMasks.XtileData) != 0)
        {
            var p = _sys.ArchPrctl(XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm, 18);
            Sub("arch_prctl", p, "REQ_XCOMP_GUEST_PERM 18: " + p.Rule);
        }
        _vm = _sys.CreateVm();
        _vm.RestoreAddresses(snap.Addresses);
        foreach (var (name, mem) in snap.Memory)
            _vm.GuestMemory[name] = (byte[])mem.Clone();
        _vm.ShadowStacks.UnionWith(snap.ShadowStacks);
        Sub("KVM_CREATE_VM", SysResult.Success(_vm.Id), $"on {s.Describe()}");
        var (cr, v) = _vm.CreateVcpu(0);
        Sub("KVM_CREATE_VCPU", cr, cr.Rule);
        _vcpu = v;
        FirstVcpu = v;
        var r = v!.SetCpuid2(snap.Cpuid);
        Sub("KVM_SET_CPUID2", r, r.Rule);
        if (!r.Ok) return Done(r, "restore stopped");
        r = v.SetSregs(snap.Cr4OsXsave, snap.Cpl);
        Sub("KVM_SET_SREGS", r, $"CR4.OSXSAVE = {(snap.Cr4OsXsave ? 1 : 0)}, CPL {snap.Cpl}");
        if (!r.Ok) return Done(r, "restore stopped");
        r = v.SetXcrs(snap.Xcrs);
        Sub("KVM_SET_XCRS", r, r.Rule);
        if (!r.Ok) return Done(r, "restore stopped");
        var buf = new byte[Math.Max(v.Fpu.UabiSize, KvmAbi.XsaveStructSize)];
        int n = Math.Min(buf.Length, snap.Xsave.Length);
        snap.Xsave.AsSpan(0, n).CopyTo(buf);
        bool lost = snap.Xsave.AsSpan(n).IndexOfAnyExcept((byte)0) >= 0;
        r = v.SetXsave(buf);
        string? corruption = r.Ok ? Corruption(_snapshotCpus[rs.Name], s.Cpu, snap) : null;
        string setText = (r.Ok ? $"{Numbers.Int(snap.Xsave.Length)}-byte image into a {Numbers.Int(v.Fpu.UabiSize)}-byte uabi buffer" : r.Rule)
            + (lost ? " | bytes past the destination's size were dropped" : "")
            + (corruption is null ? "" : $" | SILENT CORRUPTION: {corruption}");
        _steps.Add(new KvmStep(lineNumber, "KVM_SET_XSAVE", "(restore)", r, setText, []) { Corruption = corruption });
        if (!r.Ok) return Done(r, "restore stopped");
        _lastImage = null;
        r = v.SetMsrs(snap.Msrs);
        Sub("KVM_SET_MSRS", r, $"{r.Value} of {snap.Msrs.Count} written ({r.Rule})");
        if (r.Value != snap.Msrs.Count) return Done(SysResult.Fail(Errno.EINVAL, "KVM_SET_MSRS did not take every MSR"), "restore stopped");
        foreach (var (id, value) in snap.Regs)
        {
            r = v.SetOneReg(id, value);
            Sub("KVM_SET_ONE_REG", r, $"{KvmVcpu.RegName(id)} = 0x{value:x}: {r.Rule}");
            if (!r.Ok) return Done(r, "restore stopped");
        }
        return Done(SysResult.Success(), $"snapshot '{rs.Name}' from {snap.SourceCpu} restored on {s.Cpu.Name}"
            + (corruption is null ? "" : " with its state in the wrong registers (see KVM_SET_XSAVE)"));
    }

    /// <summary>KVM_SET_XSAVE copies the image by the destination's standard offsets (<c>copy_uabi_to_xstate()</c>) and
    /// checks only that XSTATE_BV is supported: every component of the guest's XCR0 or of XSTATE_BV that the source CPU
    /// places at another offset, with another size or another compacted-form alignment, lands in the wrong registers.
    /// Null when there is none.</summary>
    private static string? Corruption(CpuProfile from, CpuProfile to, VcpuSnapshot snap)
    {
        ulong xcr0 = snap.Xcrs.FirstOrDefault(x => x.Xcr == 0).Value;
        var moved = XsaveLab.Arch.Layout.ComponentComparison.Compare(from, to, (xcr0 | snap.XstateBv) & XFeatureMasks.Extend)
            .Where(c => c.Differs).ToArray();
        return moved.Length == 0 ? null : string.Join("; ", moved.Select(c => c.Describe(from.Name, to.Name)));
    }
}
