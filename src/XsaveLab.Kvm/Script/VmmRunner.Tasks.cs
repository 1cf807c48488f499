using XsaveLab.Kernel.Uabi;

namespace XsaveLab.Kvm.Script;

/// <summary>The task lines of a script: the VMM process's thread (task 0) and the tasks it forks or clones, all on
/// the VMM's kernel, sharing CPU 0 with the vCPU thread. A line acting on a task first makes it current (a context
/// switch) when it has to run, or switches it out when the kernel path needs it stopped (ptrace, sigreturn).</summary>
public sealed partial class VmmRunner
{
    private List<KernelTask> _tasks = [];
    private Dictionary<KernelTask, byte[]> _frames = [];
    private byte[]? _regset;
    private int _selected;

    // The VMM process's address space: execve() by any of its threads replaces it, and KVM refuses VM and vCPU
    // ioctls from another mm (virt/kvm/kvm_main.c kvm_vm_ioctl()/kvm_vcpu_ioctl(): kvm->mm != current->mm ⇒ -EIO).
    private int _mm, _vmMm;

    /// <summary>The tasks by script index (0 is the VMM thread).</summary>
    public IReadOnlyList<KernelTask> Tasks => _tasks;

    /// <summary>The index <c>task N</c> selected.</summary>
    public int SelectedTask => _selected;

    /// <summary>The frame of the last signal delivered to <paramref name="task"/> and not yet returned from.</summary>
    public byte[]? PendingFrame(KernelTask task) => _frames.GetValueOrDefault(task);

    /// <summary>The vCPUs the VMM can still use: none once its thread exited or its process called execve().</summary>
    public IEnumerable<KvmVcpu> UsableVcpus =>
        _vm is null || _sys is null || _sys.Task.State == TaskState.Dead || _vmMm != _mm ? [] : _vm.Vcpus;

    /// <summary>The NT_X86_XSTATE image the last <c>ptrace GET</c> returned.</summary>
    public ReadOnlySpan<byte> LastRegset => _regset;

    private KvmSystem NewProcess(KvmSystem sys)
    {
        _tasks.Clear();
        _tasks.Add(sys.Task);
        _frames.Clear();
        _regset = null;
        _selected = 0;
        _mm = _vmMm = 0;
        return sys;
    }

    private static (SysResult, string, IReadOnlyList<GuestOutcome>) Fail(Errno e, string rule) => Done(SysResult.Fail(e, rule), rule);

    /// <summary>The VMM thread must be alive to use its fds, and KVM answers VM and vCPU ioctls only from the mm that
    /// created the VM. Otherwise the VMM thread becomes current on CPU 0 (the ioctl runs in its context).</summary>
    private (SysResult, string, IReadOnlyList<GuestOutcome>)? VmmGone(VmmCall call)
    {
        var vmm = Sys.Task;
        if (vmm.State == TaskState.Dead)
            return Fail(Errno.EBADF, "the VMM thread has exited: its fds are closed");
        bool devKvm = call is VmmCall.CheckExtension { OnVm: false } or VmmCall.GetSupportedCpuid or VmmCall.GetDeviceAttr
            or VmmCall.GetMsrIndexList or VmmCall.CreateVm;
        if (_vm is not null && _vmMm != _mm && !devKvm)
            return Fail(Errno.EIO, "kvm_vcpu_ioctl()/kvm_vm_ioctl(): kvm->mm != current->mm after execve()");
        Current(vmm);
        return null;
    }

    // The task runs on CPU 0 (a context switch when another task, or idle, is current).
    private void Current(KernelTask t)
    {
        if (Sys.Kernel.Cpus[0].Current != t)
            Sys.Kernel.Schedule(0, t);
    }

    // The task is stopped: switched out, its registers saved to its fpstate.
    private void Stopped(KernelTask t)
    {
        if (Sys.Kernel.Cpus[0].Current == t)
            Sys.Kernel.Deschedule(0);
    }

    /// <summary>A task line's outcome, or null for a line that is not one.</summary>
    private (SysResult, string, IReadOnlyList<GuestOutcome>)? TaskCall(VmmCall call)
    {
        _ = Sys; // the VMM process (and task 0) exists from the first line on
        if (call is VmmCall.Check)
            return CheckInvariants();
        if (call is VmmCall.SelectTask st)
        {
            if (st.Index >= _tasks.Count)
                return Fail(Errno.ESRCH, $"no task {st.Index} ({_tasks.Count} so far)");
            _selected = st.Index;
            return Done(SysResult.Success(st.Index), $"task {st.Index}: {_tasks[st.Index]} ({_tasks[st.Index].State})");
        }
        if (call is VmmCall.Switch sw)
            return Switch(sw.Task);
        if (call is not (VmmCall.ArchPrctl or VmmCall.Fork or VmmCall.Exec or VmmCall.Exit or VmmCall.Signal or VmmCall.Sigreturn
            or VmmCall.Sigaltstack or VmmCall.UseComponent or VmmCall.Ptrace or VmmCall.PtraceShstk))
            return null;
        var t = _tasks[_selected];
        if (t.State == TaskState.Dead)
            return Fail(Errno.ESRCH, $"task {_selected} has exited");
        var k = Sys.Kernel;
        switch (call)
        {
            case VmmCall.ArchPrctl a:
                {
                    Current(t);
                    var r = Sys.ArchPrctl(t, a.Option, a.Argument);
                    string what = a.Option == ArchPrctl.ShstkStatus ? ArchPrctl.DescribeShstkFeatures((ulong)r.Value) : XFeatureTable.Describe((ulong)r.Value);
                    return Done(r, r.Ok && a.IsGet ? $"0x{r.Value:x} ({what})" : r.Rule);
                }
            case VmmCall.Fork f:
                {
                    if (_tasks.Count > ScriptText.MaxTasks)
                        return Fail(Errno.ENOMEM, $"a script creates at most {ScriptText.MaxTasks} tasks");
                    Current(t);
                    var child = k.Fork(t, f.Thread);
                    _tasks.Add(child);
                    string shstk = child.Shstk.Size != 0 ? $", shadow stack {child.Shstk}" : "";
                    return Done(SysResult.Success(_tasks.Count - 1), $"task {_tasks.Count - 1}: {child} ({(f.Thread ? "thread of" : "child of")} {t}), fpstate {Numbers.Bytes(child.Fpu.FpState.Size)}, perm 0x{child.Leader.Fpu.Perm.StatePerm:x}{shstk}");
                }
            case VmmCall.Exec:
                {
                    Current(t);
                    bool vmmGroup = t.Group == Sys.Task.Group;
                    int leakedBefore = k.LeakedFpStates.Count;
                    k.Exec(t);
                    foreach (var dead in _frames.Keys.Where(x => x.State == TaskState.Dead || x == t).ToArray())
                        _frames.Remove(dead);
                    if (vmmGroup)
                        _mm++;
                    string leak = k.LeakedFpStates.Count > leakedBefore && k.LeakedFpStates[^1] is var lost
                        ? $"; fpstate#{lost.Id} ({Numbers.Bytes(XsaveLab.Kernel.Memory.FpstateAllocation.Bytes(lost.Size))} of vmalloc) is leaked, never vfree()d"
                        : "";
                    return Done(SysResult.Success(), $"fpu_flush_thread(): fpstate {Numbers.Bytes(t.Fpu.FpState.Size)}, perm 0x{t.Fpu.Perm.StatePerm:x}, guest_perm 0x{t.Fpu.GuestPerm.StatePerm:x}{leak}");
                }
            case VmmCall.Exit:
                k.Exit(t);
                _frames.Remove(t);
                return Done(SysResult.Success(), $"{t} exited{(t == Sys.Task ? " (the VMM thread: its vCPU fpstates are freed)" : "")}");
            case VmmCall.Signal sg:
                {
                    // The FPU part of signal delivery reads the task's saved state: switch it out first so the
                    // buffer is current (the kernel's copy_fpstate_to_sigframe() XSAVEs the live registers instead).
                    var cfg = k.UabiConfig;
                    if (!cfg.UseXsave)
                        return Fail(Errno.EOPNOTSUPP, "FXSAVE-only signal frames are not modelled");
                    Stopped(t);
                    var frame = new byte[SigframeSizes.XstateSigframeSize(cfg, t.Fpu.FpState)];
                    KernelTaskUabi.CopyFpstateToSigframe(cfg, t, frame);
                    ulong bv = frame.Length >= XsaveOffsets.ExtendedStart ? BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(XsaveOffsets.XstateBv)) : 0;
                    string text = $"copy_fpstate_to_sigframe(): {Numbers.Int(frame.Length)}-byte frame, XSTATE_BV 0x{bv:x}";
                    // x64_setup_rt_frame(): get_sigframe() writes the FPU frame, then setup_signal_shadow_stack();
                    // its failure fails the delivery (force_sigsegv()), leaving no frame to return from.
                    if (HasShstk(t))
                    {
                        Current(t);
                        var ss = k.SetupSignalShadowStack(t, sg.Restorer);
                        if (!ss.Ok)
                            return Fail(ss.Errno, $"{text}; {ss.Rule}: delivery fails, SIGSEGV");
                        text += "; " + ss.Rule;
                    }
                    _frames[t] = frame;
                    return Done(SysResult.Success(frame.Length), text);
                }
            case VmmCall.Sigreturn sr:
                {
                    if (!_frames.Remove(t, out var frame))
                        return Fail(Errno.EINVAL, $"no signal frame pending for task {_selected}");
                    foreach (var m in sr.Changes)
                        if (!m.Apply(frame))
                            return Fail(Errno.EFAULT, $"{m.Field}@{m.Offset} lies beyond the {Numbers.Int(frame.Length)}-byte frame");
                    bool shstk = HasShstk(t);
                    string handler = "";
                    if (shstk)
                    {
                        // The handler runs before rt_sigreturn: its RET pops the restorer off the shadow stack, and
                        // with WRSS it may overwrite the restore token now at SSP.
                        Current(t);
                        if (!sr.NoRet)
                            handler = k.ShadowStackReturn(t) is { } ret ? $"handler RET pops 0x{ret:x}; " : "handler RET: SSP is off the shadow stack; ";
                        if (sr.Token is { } tok)
                        {
                            ulong at = k.UserSsp(t);
                            if (k.Wrss(t, at, tok) is { } sig)
                                return Fail(Errno.EFAULT, $"{handler}{sig.Reason}: SIGSEGV in the handler");
                            handler += $"WRSS 0x{tok:x} at 0x{at:x}; ";
                        }
                    }
                    Stopped(t);
                    var r = KernelTaskUabi.FpuRestoreSig(k.UabiConfig, t, frame);
                    if (!r.Ok)
                        return Fail(Errno.EFAULT, $"{handler}fpu__restore_sig() failed, SIGSEGV: {r.Rule}");
                    string restored = $"{handler}fpu__restore_sig(): {(r.FxOnly ? "FX-only frame, " : "")}{r.Rule}";
                    if (!shstk)
                        return Done(SysResult.Success(), restored);
                    // rt_sigreturn(): restore_sigcontext(), then restore_signal_shadow_stack(); a bad token is badframe.
                    Current(t);
                    var ss = k.RestoreSignalShadowStack(t);
                    return ss.Ok
                        ? Done(SysResult.Success(), $"{restored}; {ss.Rule}")
                        : Fail(ss.Errno, $"{restored}; {ss.Rule}: rt_sigreturn badframe, SIGSEGV");
                }
            case VmmCall.Sigaltstack sa:
                {
                    var r = SysResult.FromReturn(k.Sigaltstack(t, sa.Size), $"do_sigaltstack({sa.Size})");
                    return Done(r, r.Rule);
                }
            case VmmCall.UseComponent u:
                {
                    Current(t);
                    if ((k.Cpus[0].Cpu.Enumerated >> u.Component & 1) == 0)
                        return Done(SysResult.Success(SignalInfo.SIGILL), $"#UD: the CPU enumerates no component {u.Component} (SIGILL)");
                    var data = new byte[Math.Max(k.Cpus[0].Cpu.Read(u.Component).Length, 1)];
                    data.AsSpan().Fill(0x5a);
                    var r = k.UseComponent(t, u.Component, data);
                    return r.Done
                        ? Done(SysResult.Success(), $"component {u.Component} written; fpstate {Numbers.Bytes(t.Fpu.FpState.Size)}, xfeatures 0x{t.Fpu.FpState.Xfeatures:x}")
                        : Done(SysResult.Success(r.Signal?.Signo ?? 0), $"{r}");
                }
            case VmmCall.Ptrace p:
                return Ptrace(t, p);
            case VmmCall.PtraceShstk ps:
                return PtraceShstk(t, ps.Ssp);
        }
        return null;
    }

    private (SysResult, string, IReadOnlyList<GuestOutcome>) Switch(int? index)
    {
        var k = Sys.Kernel;
        if (index is not { } i)
        {
            k.Deschedule(0);
            return Done(SysResult.Success(), "CPU 0 idle");
        }
        if (i >= _tasks.Count || _tasks[i].State == TaskState.Dead)
            return Fail(Errno.ESRCH, $"no live task {i}");
        k.Schedule(0, _tasks[i]);
        return Done(SysResult.Success(i), $"CPU 0 runs {_tasks[i]}");
    }

    private (SysResult, string, IReadOnlyList<GuestOutcome>) Ptrace(KernelTask t, VmmCall.Ptrace p)
    {
        var k = Sys.Kernel;
        var cfg = k.UabiConfig;
        Stopped(t);
        if (!p.Set || _regset is null)
        {
            var g = KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Xstate, k.System.UserCfg.MaxSize);
            if (!g.Ok)
                return Done(g.Result, g.Rule);
            _regset = g.Data;
            if (!p.Set)
                return Done(SysResult.Success(g.IovLen), $"NT_X86_XSTATE {Numbers.Bytes(g.IovLen)}, XSTATE_BV 0x{BinaryPrimitives.ReadUInt64LittleEndian(g.Data.AsSpan(XsaveOffsets.XstateBv)):x}");
        }
        var img = (byte[])_regset.Clone();
        foreach (var m in p.Changes)
            if (!m.Apply(img))
                return Fail(Errno.EFAULT, $"{m.Field}@{m.Offset} lies beyond the {Numbers.Int(img.Length)}-byte image");
        var r = KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Xstate, img);
        return Done(r.Result, r.Ok ? $"NT_X86_XSTATE {Numbers.Bytes(img.Length)} written" : r.Rule);
    }

    // The task has a user shadow stack: ARCH_SHSTK_SHSTK in thread.features on a kernel with USER_SHSTK.
    private bool HasShstk(KernelTask t) => Sys.Kernel.UserShstk && (t.ShstkFeatures & ArchPrctl.ShstkShstk) != 0;

    /// <summary>PTRACE_GETREGSET / PTRACE_SETREGSET of NT_X86_SHSTK (<c>ssp_get()</c>/<c>ssp_set()</c>): the
    /// stopped task's user_ssp, 8 bytes.</summary>
    private (SysResult, string, IReadOnlyList<GuestOutcome>) PtraceShstk(KernelTask t, ulong? ssp)
    {
        var cfg = Sys.Kernel.UabiConfig;
        Stopped(t);
        if (ssp is not { } v)
        {
            var g = KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Shstk, sizeof(ulong));
            if (!g.Ok)
                return Done(g.Result, g.Rule);
            ulong got = BinaryPrimitives.ReadUInt64LittleEndian(g.Data);
            return Done(SysResult.Success((long)got), $"NT_X86_SHSTK: SSP 0x{got:x}");
        }
        var img = new byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(img, v);
        var r = KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Shstk, img);
        return Done(r.Result, r.Ok ? $"NT_X86_SHSTK: SSP = 0x{v:x}" : r.Rule);
    }

    /// <summary>The invariants of <see cref="Checks.SeriesInvariants"/> now: ok, or -EINVAL listing each breach.</summary>
    private (SysResult, string, IReadOnlyList<GuestOutcome>) CheckInvariants()
    {
        var bad = Checks.SeriesInvariants.Check(Sys, UsableVcpus);
        return bad.Count == 0
            ? Done(SysResult.Success(), $"{Checks.SeriesInvariants.All.Count} invariants hold")
            : Fail(Errno.EINVAL, $"{bad.Count} invariant violation(s): " + string.Join("; ", bad));
    }
}
