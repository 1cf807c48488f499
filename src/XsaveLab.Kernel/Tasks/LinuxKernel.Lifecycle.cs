namespace XsaveLab.Kernel.Tasks;

public sealed partial class LinuxKernel
{
    /// <summary>fork()/clone(): <c>fpu_clone()</c> for a new thread (<paramref name="thread"/>, CLONE_THREAD) or
    /// process. The live registers are saved into the child's default-sized buffer with RFBM = its default
    /// features (dynamic state such as AMX tile data is not inherited); permissions are inherited only by
    /// new processes and only with the dynamic-state key; PASID is cleared in the child's header.</summary>
    /// <remarks>arch/x86/kernel/fpu/core.c <c>fpu_clone()</c>, <c>fpu_inherit_perms()</c>. thread.pkru is the
    /// parent's live PKRU value. The child's thread struct is a copy (<c>arch_dup_task_struct()</c>): shadow stack
    /// features, locks and stack come along. <paramref name="vfork"/> is CLONE_VM|CLONE_VFORK (a new process
    /// sharing the address space until it execs or exits); a thread is CLONE_VM|CLONE_THREAD and gets its own
    /// shadow stack of <paramref name="stackSize"/> bytes (0: the default) when the parent has shadow stacks
    /// (<c>shstk_alloc_thread_stack()</c>), whose top <c>update_fpu_shstk()</c> writes into the child's CET_U.</remarks>
    public KernelTask Fork(KernelTask parent, bool thread = false, string? name = null, bool vfork = false, ulong stackSize = 0)
    {
        if (thread && vfork)
            throw new ArgumentException("a thread is not a vfork child", nameof(vfork));
        var kc = RequireRunning(parent);
        if (parent.Fpu.TaskFpState != null)
            throw new InvalidOperationException($"{parent} is running guest state (inside KVM_RUN); it cannot fork");
        if (parent.IsKernelThread)
            throw new InvalidOperationException("kernel threads are created with SpawnKernelThread");
        ThreadGroup group;
        if (thread)
            group = parent.Group;
        else
            group = NewGroup(_nextPid);
        var child = NewTask(name ?? parent.Name, group, kthread: false);
        if (!thread)
            group.Leader = child;
        child.Pkru = OsPke ? ReadPkru(kc) : parent.Pkru;
        child.Mm = thread || vfork ? parent.Mm : parent.Mm.Copy();
        child.ShstkFeatures = parent.ShstkFeatures;
        child.ShstkFeaturesLocked = parent.ShstkFeaturesLocked;
        child.Shstk = parent.Shstk;
        ulong newSsp = ShstkAllocThreadStack(parent, child, cloneVm: thread || vfork, vfork, stackSize);

        var dst = child.Fpu;
        dst.LastCpu = -1;
        FpstateReset(dst);
        child.NeedFpuLoad = true;

        if (parent.NeedFpuLoad)
            FpregsRestoreUserregs(kc, parent);
        SaveFpregsToFpstate(kc, dst);

        if (!thread && FpuStateSizeDynamic)
        {
            var src = parent.Leader.Fpu;
            dst.Perm = src.Perm;
            dst.GuestPerm = src.GuestPerm;
        }
        if (System.XsaveEnabled)
            dst.FpState.XstateBv &= ~XFeatureMasks.Pasid;
        UpdateFpuShstk(child, newSsp);
        // sigaltstack(2): fork inherits the alternate stack; CLONE_VM without CLONE_VFORK (threads) disables it.
        child.SasSsSize = thread ? 0 : parent.SasSsSize;
        return child;
    }

    /// <summary>execve(): other threads of the group exit (de_thread) and the caller leads the group; then
    /// <c>fpu_flush_thread()</c>: <c>fpstate_reset()</c> (embedded buffer, default permissions — AMX and guest
    /// permissions are dropped, Documentation/arch/x86/xstate.rst: "cleared on exec") and <c>fpu_reset_fpstate_regs()</c> (init registers in memory, ownership
    /// invalidated, TIF_NEED_FPU_LOAD); the return to user space loads them.</summary>
    /// <remarks>flush_thread() also resets PKRU (<c>pkru_flush_thread()</c>). A vmalloc'ed (grown, AMX) fpstate
    /// is not freed: <c>fpstate_reset()</c> only points <c>fpu-&gt;fpstate</c> back at <c>__fpstate</c>, and the
    /// two vfree() sites no longer see the old buffer — <c>fpstate_free()</c> (from arch_release_task_struct())
    /// frees <c>fpu-&gt;fpstate</c> only when it is not <c>__fpstate</c>, and <c>fpstate_realloc()</c> frees
    /// the buffer it replaces only when that is_valloc (after exec it replaces <c>__fpstate</c>). The buffer is
    /// therefore leaked for good (<see cref="LeakedFpStates"/>, <see cref="FpuCounters.LeakedBytes"/>).</remarks>
    public void Exec(KernelTask task, string? name = null)
    {
        var kc = RequireRunning(task);
        if (task.Fpu.TaskFpState != null)
            throw new InvalidOperationException($"{task} is running guest state (inside KVM_RUN); it cannot exec");
        foreach (var other in task.Group.Threads.ToArray())
            if (other != task)
                Exit(other);
        task.Group.Leader = task;
        if (name != null)
            task.Name = name;
        task.SasSsSize = 0;
        // exec_mmap() → mm_release() → deactivate_mm() → shstk_free(), then the new mm; start_thread_common() →
        // reset_thread_features(). The registers go with fpu_flush_thread() below (CET_U back to init).
        ShstkFree(task);
        task.Mm = new UserMm();
        ResetThreadFeatures(task);

        var fpu = task.Fpu;
        var old = fpu.FpState;
        FpstateReset(fpu);
        if (old != fpu.FpState && old.IsValloc)
            Leak(old);
        ResetFpstateRegs(fpu);
        task.NeedFpuLoad = true;
        // flush_thread() → pkru_flush_thread(): the default PKRU goes to thread.pkru and the register now.
        if (OsPke)
        {
            task.Pkru = InitPkruValue;
            if (ReadPkru(kc) != InitPkruValue)
                WritePkru(kc, InitPkruValue);
        }
        ExitToUser(kc, task);
    }

    /// <summary>exit(): the thread's shadow stack is unmapped, vCPU fpstates are freed (swapped out first), <c>fpu__drop()</c>, the final switch away,
    /// and the release of a vmalloc'ed fpstate (<c>fpstate_free()</c> from arch_release_task_struct()).</summary>
    public void Exit(KernelTask task)
    {
        if (task.State == TaskState.Dead)
            return;
        // exit_mm() → mm_release() → deactivate_mm() → shstk_free(): the thread's own shadow stack is unmapped.
        ShstkFree(task);
        foreach (var g in task.Guests.ToArray())
        {
            if (g.FpState is { InUse: true } gfps)
            {
                if (task.State == TaskState.Running)
                    FpuSwapKvmFpstate(task, g, enterGuest: false);
                else
                {
                    // Not on a CPU: its registers are already saved (TIF_NEED_FPU_LOAD); only the pointers swap back.
                    gfps.InUse = false;
                    task.Fpu.FpState = task.Fpu.TaskFpState!;
                    task.Fpu.TaskFpState = null;
                }
            }
            FpuFreeGuestFpstate(g);
        }
        if (task.State == TaskState.Running)
        {
            var kc = _cpus[task.OnCpu];
            // fpu__drop(): forget ownership (after FWAIT) unless the registers are already stale.
            if (!task.NeedFpuLoad && kc.FpregsOwnerCtx == task.Fpu)
                kc.FpregsOwnerCtx = null;
            task.State = TaskState.Dead;
            SwitchOut(kc, task, TaskState.Dead);
            PkruLoad(kc, task, null);
            kc.Current = null;
            Counters.ContextSwitches++;
        }
        task.State = TaskState.Dead;
        task.Group.Remove(task);
        if (task.Fpu.FpState != task.Fpu.EmbeddedFpState)
            Vfree(task.Fpu.FpState);
        if (task.Fpu.TaskFpState is { } host && host != task.Fpu.EmbeddedFpState)
            Vfree(host);
        foreach (var c in _cpus)
            if (c.FpregsOwnerCtx == task.Fpu)
                c.FpregsOwnerCtx = null;
    }

    /// <summary>The task sleeps (switched out if running).</summary>
    public void Block(KernelTask task)
    {
        if (task.State == TaskState.Dead)
            throw new InvalidOperationException($"{task} is dead");
        if (task.State == TaskState.Running)
        {
            int cpu = task.OnCpu;
            task.State = TaskState.Blocked;
            var kc = _cpus[cpu];
            SwitchOut(kc, task, TaskState.Blocked);
            PkruLoad(kc, task, null);
            kc.Current = null;
            Counters.ContextSwitches++;
            Jiffies++;
        }
        task.State = TaskState.Blocked;
    }

    public void Wake(KernelTask task)
    {
        if (task.State == TaskState.Blocked)
            task.State = TaskState.Runnable;
    }
}
