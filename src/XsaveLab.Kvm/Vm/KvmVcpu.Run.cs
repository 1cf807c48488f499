namespace XsaveLab.Kvm.Vm;

/// <summary>The result of KVM_RUN: the ioctl result and what each guest instruction did.</summary>
public sealed record RunResult(SysResult Result, IReadOnlyList<GuestOutcome> Guest)
{
    public bool ExpectationsMet => Guest.All(g => g.ExpectationFailure is null);
}

public sealed partial class KvmVcpu
{
    private bool _inGuest;
    private int _guestCpl;

    /// <summary>Size of a guest memory buffer used by the guest's XSAVE-family instructions.</summary>
    public const int GuestBufferSize = 32768;

    /// <summary>KVM_RUN: load the guest FPU (<c>fpu_swap_kvm_fpstate(gfpu, true)</c>), load guest XCR0/XSS and a
    /// pending XFD_ERR (<c>kvm_load_guest_xsave_state()</c>), run the guest's instructions (KVM intercepts XSETBV and
    /// the modelled MSRs; the rest runs on the CPU), then restore the host values and put the guest FPU.</summary>
    public RunResult Run(IReadOnlyList<GuestOp> ops)
    {
        if (Dead() is { } d) return new RunResult(d, []);
        var pc = Sys.Cpu;
        int userCpl = pc.Cpl;
        pc.Cpl = 0;
        int warnings = K.Warnings.Count, oopses = K.Oopses.Count;
        K.FpuSwapKvmFpstate(T, Fpu, enterGuest: true);
        HasRun = true;
        if (K.Oopses.Count > oopses)
            return new RunResult(Killed(pc, userCpl, K.Oopses[^1], warnings), []);
        _inGuest = true;
        LoadGuestXsaveState(pc);
        if (Fpu.XfdErr != 0)
            pc.Wrmsr(Msr.IA32_XFD_ERR, Fpu.XfdErr);

        var outcomes = new List<GuestOutcome>();
        foreach (var op in ops)
            outcomes.Add(Check(op, Execute(op, pc)));

        if (Fpu.XfdErr != 0)
            pc.Wrmsr(Msr.IA32_XFD_ERR, 0);
        LoadHostXsaveState(pc);
        _inGuest = false;
        K.FpuSwapKvmFpstate(T, Fpu, enterGuest: false);
        pc.Cpl = userCpl;
        var res = K.Warnings.Count == warnings
            ? SysResult.Success(0, "exit to userspace")
            : SysResult.Success(0, "exit to userspace; kernel warnings: " + string.Join("; ", K.Warnings.Entries.Skip(warnings)));
        return new RunResult(res, outcomes);
    }

    /// <summary>The host kernel died in <c>fpu_swap_kvm_fpstate()</c>: KVM_RUN never returns and the VMM's thread is
    /// killed (<c>die()</c> → <c>make_task_dead(SIGSEGV)</c>); every later ioctl on this vCPU finds no process.</summary>
    private SysResult Killed(XsaveCpu pc, int userCpl, string oops, int warningsBefore)
    {
        pc.Cpl = userCpl;
        KilledBy = oops;
        return SysResult.Fail(Errno.EINTR, $"no return: {oops} in fpu_swap_kvm_fpstate(); kernel warnings: {string.Join("; ", K.Warnings.Entries.Skip(warningsBefore))}; the VMM thread is killed");
    }

    private void LoadGuestXsaveState(XsaveCpu pc)
    {
        pc.OsXsave = Cr4OsXsave;
        pc.Cpl = _guestCpl;
        if (!Cr4OsXsave)
            return;
        if (Xcr0 != Host.Xcr0)
            pc.Xsetbv(0, Xcr0);
        if (GuestXsaves && Ia32Xss != Host.Xss)
            pc.Wrmsr(Msr.IA32_XSS, Ia32Xss);
        // kvm_load_guest_xsave_state(): PKRU is switched by WRPKRU, not by the guest fpstate.
        if (GuestPkruLive(pc) && ReadPkru(pc) != Pkru)
            WritePkru(pc, Pkru);
    }

    private bool GuestPkruLive(XsaveCpu pc) =>
        (Host.Xcr0 & XFeatureMasks.Pkru) != 0 && (Xcr0 & XFeatureMasks.Pkru) != 0 && (pc.Xcr0 & XFeatureMasks.Pkru) != 0;

    private static uint ReadPkru(XsaveCpu pc) => BinaryPrimitives.ReadUInt32LittleEndian(pc.Read((int)XFeature.Pkru));

    private static void WritePkru(XsaveCpu pc, uint v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        pc.Write((int)XFeature.Pkru, b);
    }

    private void LoadHostXsaveState(XsaveCpu pc)
    {
        pc.Cpl = 0;
        // kvm_load_host_xsave_state(): the guest's PKRU is read back and the host's restored.
        if (Cr4OsXsave && GuestPkruLive(pc))
        {
            Pkru = ReadPkru(pc);
            if (Pkru != T.Pkru)
                WritePkru(pc, T.Pkru);
        }
        pc.OsXsave = Host.XsaveEnabled;
        if (Cr4OsXsave)
        {
            if (pc.Xcr0 != Host.Xcr0)
                pc.Xsetbv(0, Host.Xcr0);
            if (GuestXsaves && pc.Xss != Host.Xss)
                pc.Wrmsr(Msr.IA32_XSS, Host.Xss);
        }
    }

    private static GuestOutcome Check(GuestOp op, GuestOutcome o) =>
        op.Outcome is not { } exp || exp.MetBy(o) ? o : o with { ExpectationFailure = exp.Text };

    /// <summary>The value of a guest operand, with <c>cpuid</c> resolved against this vCPU's CPUID.</summary>
    private ulong Resolve(GuestOp op)
    {
        if (!op.FromCpuid)
            return op.Value;
        ulong xcr0 = 0, xss = 0;
        foreach (var e in Cpuid)
        {
            if (e.Function == 0xD && e.Index == 0) xcr0 = e.Eax | (ulong)e.Edx << 32;
            if (e.Function == 0xD && e.Index == 1) xss = e.Ecx | (ulong)e.Edx << 32;
        }
        ulong c = op.Kind switch
        {
            GuestOpKind.Xsetbv => xcr0,
            GuestOpKind.Wrmsr => op.Msr == Msr.IA32_XSS ? xss : 0,
            GuestOpKind.Xsaves or GuestOpKind.Xrstors => xcr0 | xss,
            _ => xcr0,
        };
        return op.Value | c;
    }

    private GuestOutcome Execute(GuestOp op, XsaveCpu pc)
    {
        string t = op.Text;
        if (op.FromCpuid)
            op = op with { Value = Resolve(op), FromCpuid = false };
        switch (op.Kind)
        {
            case GuestOpKind.SetCr4OsXsave:
                if (!GuestXsave)
                    return new(t, XsaveFault.GP("CR4.OSXSAVE without XSAVE in guest CPUID (kvm_is_valid_cr4)"), null, "#GP");
                Cr4OsXsave = true;
                LoadGuestXsaveState(pc);
                return new(t, XsaveFault.None, null, "CR4.OSXSAVE = 1");
            case GuestOpKind.Cpl:
                ChangePrivilege(pc, (int)op.Value);
                return new(t, XsaveFault.None, null, $"CPL {op.Value}" + (ShadowStackEnabled(pc, _guestCpl) ? $", SSP 0x{Ssp:x}" : ""));
            case GuestOpKind.ShstkEnable:
                return ShstkEnable(op);
            case GuestOpKind.Call or GuestOpKind.Ret:
                return CallOrRet(op, pc);
            case GuestOpKind.Xsetbv:
                {
                    if (!Cr4OsXsave)
                        return new(t, XsaveFault.UD("XSETBV with CR4.OSXSAVE = 0"), null, "#UD");
                    if (_guestCpl != 0)
                        return new(t, XsaveFault.GP("XSETBV at CPL > 0 (kvm_set_xcr)"), null, "#GP");
                    var why = SetXcr(op.Ecx, op.Value);
                    if (why is not null)
                        return new(t, XsaveFault.GP($"__kvm_set_xcr: {why}"), null, $"#GP injected ({why})");
                    var f = pc.Xsetbv(0, op.Value);
                    return new(t, f, f.IsFault ? null : op.Value, f.IsFault ? f.ToString() : $"XCR0 = 0x{op.Value:x}");
                }
            case GuestOpKind.Xgetbv:
                {
                    var f = pc.Xgetbv(op.Ecx, out var v);
                    return new(t, f, f.IsFault ? null : v, f.IsFault ? f.ToString() : $"0x{v:x}");
                }
            case GuestOpKind.Rdmsr:
                {
                    if (_guestCpl != 0)
                        return new(t, XsaveFault.GP("RDMSR at CPL > 0"), null, "#GP");
                    var (st, v) = GetMsr(op.Msr, false);
                    return st == MsrStatus.Ok
                        ? new(t, XsaveFault.None, v, $"0x{v:x}")
                        : new(t, XsaveFault.GP($"KVM refused RDMSR {MsrNames.Name(op.Msr)} ({st})"), null, "#GP injected");
                }
            case GuestOpKind.Wrmsr:
                {
                    if (_guestCpl != 0)
                        return new(t, XsaveFault.GP("WRMSR at CPL > 0"), null, "#GP");
                    var st = SetMsr(op.Msr, op.Value, false);
                    return st == MsrStatus.Ok
                        ? new(t, XsaveFault.None, op.Value, $"{MsrNames.Name(op.Msr)} = 0x{op.Value:x}")
                        : new(t, XsaveFault.GP($"KVM refused WRMSR {MsrNames.Name(op.Msr)} = 0x{op.Value:x} ({st})"), null, "#GP injected");
                }
            case GuestOpKind.Ldtilecfg:
                return NotEnumerated(t, 17) ?? Outcome(t, pc, pc.Ldtilecfg(TileConfig()));
            case GuestOpKind.Tileloadd:
                {
                    if (NotEnumerated(t, 18) is { } missing)
                        return missing;
                    if ((pc.Xcr0 & XFeatureMasks.Xtile) != XFeatureMasks.Xtile || !pc.OsXsave)
                        return new(t, XsaveFault.UD("TILELOADD without AMX enabled in XCR0"), null, "#UD");
                    var data = pc.Read(18).ToArray();
                    for (int i = 0; i < 1024 && i < data.Length; i++)
                        data[i] = (byte)(0xA5 ^ i);
                    return WriteComponent(t, pc, 18, data);
                }
            case GuestOpKind.Tilerelease:
                if ((NotEnumerated(t, 17) ?? NotEnumerated(t, 18)) is { } absent)
                    return absent;
                if ((pc.Xcr0 & XFeatureMasks.Xtile) != XFeatureMasks.Xtile)
                    return new(t, XsaveFault.UD("TILERELEASE without AMX enabled in XCR0"), null, "#UD");
                pc.Init(17);
                pc.Init(18);
                return new(t, XsaveFault.None, null, "tiles in init state");
            case GuestOpKind.WriteComponent:
                {
                    var c = Host.Cpu.Component(op.Component);
                    if (c is null || (pc.Xcr0 >> op.Component & 1) == 0 && op.Component < 32 && (pc.Xss >> op.Component & 1) == 0)
                        return new(t, XsaveFault.UD($"component {op.Component} not enabled"), null, "#UD");
                    var data = new byte[c.Value.Size];
                    for (int i = 0; i < data.Length; i++)
                        data[i] = (byte)(0x11 * (op.Component + 1) + i);
                    return WriteComponent(t, pc, op.Component, data);
                }
            case GuestOpKind.InitComponent:
                if (NotEnumerated(t, op.Component) is { } none)
                    return none;
                pc.Init(op.Component);
                return new(t, XsaveFault.None, null, "init");
            case GuestOpKind.Cpuid:
                {
                    var e = GuestCpuid(op.Msr, op.Ecx);
                    return new(t, XsaveFault.None, e.Ebx, $"eax=0x{e.Eax:x} ebx=0x{e.Ebx:x} ecx=0x{e.Ecx:x} edx=0x{e.Edx:x}");
                }
            case GuestOpKind.SetXstateBv:
                BinaryPrimitives.WriteUInt64LittleEndian(Buffer(op.Buffer).AsSpan(XsaveOffsets.XstateBv), op.Value);
                return new(t, XsaveFault.None, op.Value, $"XSTATE_BV of {op.Buffer} = 0x{op.Value:x}");
            default:
                return SaveRestore(op, pc);
        }
    }

    private GuestOutcome SaveRestore(GuestOp op, XsaveCpu pc)
    {
        var buf = Buffer(op.Buffer);
        ulong addr = Vm.GuestAddress(op.Buffer);
        var f = op.Kind switch
        {
            GuestOpKind.Xsave => pc.Xsave(buf, addr, op.Value),
            GuestOpKind.Xsavec => pc.Xsavec(buf, addr, op.Value),
            GuestOpKind.Xsaveopt => pc.Xsaveopt(buf, addr, op.Value),
            GuestOpKind.Xsaves => pc.Xsaves(buf, addr, op.Value),
            GuestOpKind.Xrstor => pc.Xrstor(buf, addr, op.Value),
            _ => pc.Xrstors(buf, addr, op.Value),
        };
        if (XfdFault(pc, f) is { } nm)
            return new(op.Text, f, null, nm);
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(XsaveOffsets.XstateBv));
        ulong comp = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(XsaveOffsets.XcompBv));
        return new(op.Text, f, bv, f.IsFault ? f.ToString() : $"XSTATE_BV=0x{bv:x} XCOMP_BV=0x{comp:x}");
    }

    /// <summary>A guest buffer (in the VM's memory; a snapshot carries it).</summary>
    public byte[] Buffer(string name)
    {
        if (!Vm.GuestMemory.TryGetValue(name, out var b))
            Vm.GuestMemory[name] = b = new byte[GuestBufferSize];
        return b;
    }

    /// <summary>#UD for an instruction whose state component the CPU does not enumerate in CPUID 0xD (AMX
    /// instructions without AMX: SDM Vol. 2 LDTILECFG/TILELOADD "#UD if CPUID.(EAX=07H,ECX=0):EDX.AMX-TILE[bit 24]
    /// = 0"; the model's register file has no such component to touch).</summary>
    private GuestOutcome? NotEnumerated(string t, int component) =>
        component >= 2 && Host.Cpu.Component(component) is null
            ? new(t, XsaveFault.UD($"the CPU does not enumerate component {component}"), null, "#UD")
            : null;

    private GuestOutcome WriteComponent(string t, XsaveCpu pc, int comp, byte[] data) => Outcome(t, pc, pc.Write(comp, data));

    private GuestOutcome Outcome(string t, XsaveCpu pc, XsaveFault f) =>
        new(t, f, null, XfdFault(pc, f) ?? (f.IsFault ? f.ToString() : "ok"));

    /// <summary><c>handle_nm_fault_irqoff()</c>: on any #NM the guest takes while its fpstate has XFD armed and
    /// CR0.TS is clear (<c>is_xfd_nm_fault()</c>), KVM reads IA32_XFD_ERR into the guest FPU before injecting
    /// the #NM, whichever instruction faulted (a tile write, LDTILECFG, XRSTOR(S) of XTILEDATA). Returns the
    /// outcome text, or null when <paramref name="f"/> is not such a fault.</summary>
    private string? XfdFault(XsaveCpu pc, XsaveFault f)
    {
        if (f.Kind != FaultKind.DeviceNotAvailable || Fpu.FpState!.Xfd == 0 || pc.Cr0Ts)
            return null;
        pc.Rdmsr(Msr.IA32_XFD_ERR, out var err);
        Fpu.XfdErr = err;
        return $"#NM injected (XFD_ERR = 0x{err:x})";
    }

    /// <summary>amx_test's tile configuration: palette 1, 8 tiles of 16 rows × 64 bytes.</summary>
    private static byte[] TileConfig()
    {
        var cfg = new byte[64];
        cfg[0] = 1;
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(cfg.AsSpan(16 + 2 * i), 64);
            cfg[48 + i] = 16;
        }
        return cfg;
    }
}
