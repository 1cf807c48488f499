namespace XsaveLab.Kvm.Vm;

/// <summary>The guest's shadow stack as far as the SSP matters to a VMM: the guest kernel's
/// <c>shstk_setup()</c> (arch/x86/kernel/shstk.c), CALL and RET against the shadow stack, and the SSP switch at
/// privilege changes (SYSCALL/SYSRET pseudo-code, SDM Vol. 2). CR4.CET is taken as set (the guest kernel sets it when
/// it enables CET); a shadow stack is active at CPL 3 when IA32_U_CET.SH_STK_EN is set, below 3 when
/// IA32_S_CET.SH_STK_EN is.</summary>
public sealed partial class KvmVcpu
{
    /// <summary>The guest's current privilege level (CS.DPL, part of KVM_GET_SREGS).</summary>
    public int GuestCpl => _guestCpl;

    /// <summary>KVM_SET_SREGS for what the model keeps: CR4.OSXSAVE (needs XSAVE in guest CPUID) and the CPL
    /// (CS/SS DPL).</summary>
    public SysResult SetSregs(bool cr4OsXsave, int cpl)
    {
        if (cpl is < 0 or > 3)
            throw new ArgumentOutOfRangeException(nameof(cpl), cpl, "a CPL is 0 to 3");
        var r = SetCr4OsXsave(cr4OsXsave);
        if (r.Ok)
            _guestCpl = cpl;
        return r;
    }

    /// <summary>An MSR as the processor itself reads it (a privilege change), whatever the CPL.</summary>
    private static ulong CpuMsr(XsaveCpu pc, uint msr)
    {
        int cpl = pc.Cpl;
        pc.Cpl = 0;
        pc.Rdmsr(msr, out var v);
        pc.Cpl = cpl;
        return v;
    }

    private static void SetCpuMsr(XsaveCpu pc, uint msr, ulong value)
    {
        int cpl = pc.Cpl;
        pc.Cpl = 0;
        pc.Wrmsr(msr, value);
        pc.Cpl = cpl;
    }

    /// <summary><c>ShadowStackEnabled(CPL)</c> of the SDM pseudo-code.</summary>
    private bool ShadowStackEnabled(XsaveCpu pc, int cpl) =>
        cpl == 3 ? (CpuMsr(pc, Msr.IA32_U_CET) & XsaveDataRules.CetShstkEn) != 0 : (SCet & XsaveDataRules.CetShstkEn) != 0;

    /// <summary>A privilege change to <paramref name="to"/>: leaving CPL 3 (SYSCALL, an interrupt) saves the user SSP
    /// in IA32_PL3_SSP, and SSP becomes 0 when supervisor shadow stacks are on; returning to CPL 3 (SYSRET, IRET)
    /// loads SSP from IA32_PL3_SSP. IA32_PL3_SSP is in CET_U, so the guest FPU (and KVM_GET_XSAVE2) holds the user
    /// SSP only while the guest runs below CPL 3; at CPL 3 the SSP is only in the VMCS/VMCB.</summary>
    private void ChangePrivilege(XsaveCpu pc, int to)
    {
        int from = _guestCpl;
        if (from == 3 && to != 3)
        {
            if (ShadowStackEnabled(pc, 3))
                SetCpuMsr(pc, Msr.IA32_PL3_SSP, Ssp);
            if ((SCet & XsaveDataRules.CetShstkEn) != 0)
                Ssp = 0;
        }
        else if (from != 3 && to == 3 && ShadowStackEnabled(pc, 3))
        {
            Ssp = CpuMsr(pc, Msr.IA32_PL3_SSP);
        }
        _guestCpl = to;
        pc.Cpl = to;
    }

    /// <summary>The guest kernel's <c>shstk_setup()</c> for its current task: the buffer becomes a shadow-stack
    /// mapping, IA32_PL3_SSP its top (no restore token for the first stack) and IA32_U_CET.SH_STK_EN is set. At CPL 0,
    /// through KVM's WRMSR rules (a guest without SHSTK takes #GP).</summary>
    private GuestOutcome ShstkEnable(GuestOp op)
    {
        if (_guestCpl != 0)
            return new(op.Text, XsaveFault.GP("WRMSR at CPL > 0"), null, "#GP");
        Buffer(op.Buffer);
        ulong top = Vm.GuestAddress(op.Buffer) + GuestBufferSize;
        var (st, ucet) = GetMsr(Msr.IA32_U_CET, false);
        if (st != MsrStatus.Ok || SetMsr(Msr.IA32_PL3_SSP, top, false) != MsrStatus.Ok || SetMsr(Msr.IA32_U_CET, ucet | XsaveDataRules.CetShstkEn, false) != MsrStatus.Ok)
            return new(op.Text, XsaveFault.GP("KVM refused the CET MSR writes of shstk_setup()"), null, "#GP injected");
        Vm.ShadowStacks.Add(op.Buffer);
        return new(op.Text, XsaveFault.None, top, $"{op.Buffer} at 0x{Vm.GuestAddress(op.Buffer):x} is a shadow stack; IA32_PL3_SSP = 0x{top:x}, U_CET.SH_STK_EN = 1");
    }

    /// <summary>CALL and RET with a shadow stack active (SDM Vol. 2 CALL/RET: <c>ShadowStackPush8B</c>,
    /// <c>ShadowStackPop8B</c>, #CP(NEAR-RET) when the popped address differs). A shadow-stack access to memory that
    /// is not a shadow-stack page is a #PF; at CPL 3 the guest kernel answers either with SIGSEGV to the task
    /// (<c>do_user_addr_fault()</c>, <c>do_user_cp_fault()</c>).</summary>
    private GuestOutcome CallOrRet(GuestOp op, XsaveCpu pc)
    {
        string t = op.Text;
        if (!ShadowStackEnabled(pc, _guestCpl))
            return new(t, XsaveFault.None, null, $"no shadow stack at CPL {_guestCpl}");
        string user = _guestCpl == 3 ? "; the guest kernel sends the task SIGSEGV" : "";
        ulong at = op.Kind == GuestOpKind.Call ? Ssp - 8 : Ssp;
        string verb = op.Kind == GuestOpKind.Call ? "push" : "pop";
        if (ShadowStackSlot(at) is not { } slot)
            return new(t, new XsaveFault(FaultKind.PageFault, $"shadow-stack {verb} at 0x{at:x}: not a shadow-stack page"), null,
                $"#PF (shadow-stack {verb} at SSP 0x{at:x}, not a shadow-stack page{user})");
        var mem = slot.Memory.AsSpan(slot.Offset, 8);
        if (op.Kind == GuestOpKind.Call)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(mem, op.Value);
            Ssp = at;
            return new(t, XsaveFault.None, Ssp, $"SSP = 0x{Ssp:x}, shadow stack holds 0x{op.Value:x}");
        }
        ulong saved = BinaryPrimitives.ReadUInt64LittleEndian(mem);
        if (saved != op.Value)
            return new(t, new XsaveFault(FaultKind.ControlProtection, $"NEAR-RET: shadow stack holds 0x{saved:x}, the stack returns to 0x{op.Value:x}"), null,
                $"#CP(NEAR-RET): the shadow stack at SSP 0x{Ssp:x} holds 0x{saved:x}, not 0x{op.Value:x}{user}");
        Ssp += 8;
        return new(t, XsaveFault.None, Ssp, $"returns to 0x{op.Value:x}; SSP = 0x{Ssp:x}");
    }

    /// <summary>The shadow-stack memory behind an 8-byte access at <paramref name="address"/>, or null.</summary>
    private (byte[] Memory, int Offset)? ShadowStackSlot(ulong address)
    {
        var name = Vm.BufferAt(address, out int offset);
        if (name is null || !Vm.ShadowStacks.Contains(name) || offset > GuestBufferSize - 8)
            return null;
        return (Buffer(name), offset);
    }
}
