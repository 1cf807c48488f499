namespace XsaveLab.Kvm.Script;

/// <summary>One script line as a typed call, every name and number already resolved by <see cref="VmmScript.Parse"/>:
/// the runner never reads the text again.</summary>
public abstract record VmmCall
{
    /// <summary><c>cpu NAME</c>: the CPU of the VMM process.</summary>
    public sealed record SetCpu(CpuProfile Cpu) : VmmCall;

    /// <summary><c>kernel VARIANT [user_shstk]</c>: <see cref="UserShadowStack"/> is CONFIG_X86_USER_SHADOW_STACK.</summary>
    public sealed record SetKernel(KernelVariant Kernel, bool UserShadowStack = false) : VmmCall;

    /// <summary><c>kvm 6.17|6.18|6.19</c>.</summary>
    public sealed record SetRelease(KvmRelease Release) : VmmCall;

    /// <summary><c>flavour upstream|pvm</c>.</summary>
    public sealed record SetFlavour(KvmFlavour Flavour) : VmmCall;

    /// <summary><c>arch_prctl OPTION [N|FEATURE]</c>; <see cref="IsGet"/> for the GET_* options and ARCH_SHSTK_STATUS
    /// (the value is a mask: xfeatures, or thread.features).</summary>
    public sealed record ArchPrctl(int Option, ulong Argument, bool IsGet) : VmmCall;

    /// <summary><c>KVM_CHECK_EXTENSION CAP [vm]</c>.</summary>
    public sealed record CheckExtension(int Capability, bool OnVm) : VmmCall;

    public sealed record GetSupportedCpuid : VmmCall;

    /// <summary><c>KVM_GET_DEVICE_ATTR</c> of group 0 (KVM_X86_GRP_SYSTEM).</summary>
    public sealed record GetDeviceAttr(ulong Attribute) : VmmCall;

    public sealed record GetMsrIndexList : VmmCall;

    public sealed record CreateVm : VmmCall;

    public sealed record CreateVcpu(int Id) : VmmCall;

    /// <summary><c>vcpu ID</c>: the vCPU later lines address.</summary>
    public sealed record SelectVcpu(int Id) : VmmCall;

    /// <summary><c>KVM_SET_CPUID2 [expose=…]</c>, from the last supported table.</summary>
    public sealed record SetCpuid2(CpuidExposure Exposure) : VmmCall;

    public sealed record GetCpuid2 : VmmCall;

    /// <summary><c>KVM_RUN [guest: INSN; …]</c>.</summary>
    public sealed record Run(IReadOnlyList<GuestOp> Guest) : VmmCall;

    /// <summary><c>KVM_GET_XSAVE</c> (4096 bytes) or <c>KVM_GET_XSAVE2</c>.</summary>
    public sealed record GetXsave(bool Xsave2) : VmmCall;

    /// <summary><c>KVM_SET_XSAVE [changes]</c>: the last image read, changed.</summary>
    public sealed record SetXsave(IReadOnlyList<XsaveMutation> Changes) : VmmCall;

    public sealed record GetXcrs : VmmCall;

    /// <summary><c>KVM_SET_XCRS VALUE</c>; <see cref="FromCpuid"/> ORs in the vCPU's CPUID XCR0.</summary>
    public sealed record SetXcrs(ulong Value, bool FromCpuid) : VmmCall;

    public sealed record GetMsrs(IReadOnlyList<uint> Msrs) : VmmCall;

    /// <summary><c>KVM_SET_MSRS MSR=VALUE …</c>; <c>cpuid</c> in a value ORs in the vCPU's CPUID XSS.</summary>
    public sealed record SetMsrs(IReadOnlyList<(uint Index, ulong Value, bool FromCpuid)> Msrs) : VmmCall;

    /// <summary><c>KVM_GET_ONE_REG REG</c>, the register as its ONE_REG id.</summary>
    public sealed record GetOneReg(ulong Id) : VmmCall;

    /// <summary><c>KVM_SET_ONE_REG REG=VALUE</c>.</summary>
    public sealed record SetOneReg(ulong Id, ulong Value) : VmmCall;

    /// <summary><c>KVM_GET_REG_LIST [n=N]</c>: <see cref="Capacity"/> null asks for the count first, then the list.</summary>
    public sealed record GetRegList(ulong? Capacity) : VmmCall;

    public sealed record DestroyVcpu : VmmCall;

    /// <summary><c>init</c>: the vCPU takes INIT (<see cref="Vm.KvmVcpu.Init"/>).</summary>
    public sealed record Init : VmmCall;

    /// <summary><c>save NAME [omit=MSR,SSP,…]</c>; <see cref="OmitRegs"/>: the VMM does not save the ONE_REG
    /// registers KVM_GET_REG_LIST names (the guest's SSP).</summary>
    public sealed record Save(string Name, IReadOnlyList<uint> Omit, bool OmitRegs = false) : VmmCall;

    /// <summary><c>restore NAME [cpu=X] [kernel=V] [kvm=R] [flavour=F]</c>: null keeps the current setting.</summary>
    public sealed record Restore(string Name, CpuProfile? Cpu, KernelVariant? Kernel, KvmRelease? Release, KvmFlavour? Flavour) : VmmCall;

    /// <summary><c>task N</c>: the task later task lines (and <c>arch_prctl</c>) act on; task 0 is the VMM thread,
    /// the others are numbered in creation order.</summary>
    public sealed record SelectTask(int Index) : VmmCall;

    /// <summary><c>fork</c> (<see cref="Thread"/> false) or <c>clone</c> (CLONE_THREAD) by the selected task.</summary>
    public sealed record Fork(bool Thread) : VmmCall;

    public sealed record Exec : VmmCall;

    public sealed record Exit : VmmCall;

    /// <summary><c>switch N|idle</c>: a context switch on CPU 0 to task N or to idle (preemption).</summary>
    public sealed record Switch(int? Task) : VmmCall;

    /// <summary><c>signal [restorer=ADDR]</c>: a signal is delivered to the selected task (its FPU image goes to a
    /// frame; with a shadow stack, the restore token and <see cref="Restorer"/> go to the shadow stack).</summary>
    public sealed record Signal(ulong Restorer) : VmmCall;

    /// <summary><c>sigreturn [noret] [token=VALUE] [changes]</c>: the frame of the last <c>signal</c>, changed as
    /// written. With a shadow stack the handler first returns (RET pops the restorer) unless <see cref="NoRet"/>,
    /// and <see cref="Token"/>, when given, is written over the restore token with WRSS.</summary>
    public sealed record Sigreturn(IReadOnlyList<XsaveMutation> Changes, bool NoRet = false, ulong? Token = null) : VmmCall;

    /// <summary><c>sigaltstack N</c> (0 disables).</summary>
    public sealed record Sigaltstack(ulong Size) : VmmCall;

    /// <summary><c>use N</c>: the selected task writes component N in user space (first use of a dynamic
    /// feature takes the XFD #NM path).</summary>
    public sealed record UseComponent(int Component) : VmmCall;

    /// <summary><c>ptrace GET|SET [changes]</c>: NT_X86_XSTATE of the selected task, read by a tracer; SET writes
    /// the last image read, changed.</summary>
    public sealed record Ptrace(bool Set, IReadOnlyList<XsaveMutation> Changes) : VmmCall;

    /// <summary><c>ptrace GET NT_X86_SHSTK</c> / <c>ptrace SET NT_X86_SHSTK=SSP</c>: the selected task's user shadow
    /// stack pointer through its regset (<see cref="Ssp"/> null for GET).</summary>
    public sealed record PtraceShstk(ulong? Ssp) : VmmCall;

    /// <summary><c>check</c>: the model's invariants over the whole system at this point (<see cref="Checks.SeriesInvariants"/>).</summary>
    public sealed record Check : VmmCall;

    /// <summary><c>expect …</c>: checks the line before.</summary>
    public sealed record Expect(ExpectKind Kind, Errno Errno, ulong Value, string Text) : VmmCall;
}

/// <summary>What an <c>expect</c> line checks.</summary>
public enum ExpectKind
{
    /// <summary>The call succeeded and every guest expectation was met.</summary>
    Ok,
    /// <summary>The call failed with this errno.</summary>
    Errno,
    /// <summary>The call succeeded with this value.</summary>
    Value,
    /// <summary>The account of the call contains this text.</summary>
    Contains,
}

/// <summary>A <c>when COND:</c> prefix: the line runs only when the CPU and KVM have (or, negated, lack) it.</summary>
public sealed record ScriptCondition(ConditionKind Kind, bool Negated)
{
    public override string ToString() => (Negated ? "!" : "") + Kind.ToString().ToLowerInvariant();
}

public enum ConditionKind
{
    Xsave,
    Amx,
    Cet,
    Xfd,
    GuestXsave,
}
