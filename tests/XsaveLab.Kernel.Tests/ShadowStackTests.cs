using XsaveLab.Kernel.Uabi.CoreNotes;

namespace XsaveLab.Kernel.Tests;

/// <summary>User shadow stacks in tasks (arch/x86/kernel/shstk.c, 6.6+): the ARCH_SHSTK_* interface, the CET_U
/// state it writes, and what exec, fork and exit do to it.</summary>
public class ShadowStackTests
{
    private static readonly BootOptions WithShstk = BootOptions.Default with { UserShadowStack = true };

    /// <summary>Catalog CPUs whose 6.17 boot with CONFIG_X86_USER_SHADOW_STACK has X86_FEATURE_USER_SHSTK.</summary>
    public static IEnumerable<object[]> ShstkCpus() =>
        XsaveLab.Arch.Catalog.CpuCatalog.Entries
            .Where(e => new LinuxKernel(FpuSystem.Boot(e.Profile, KernelVariants.Default, WithShstk), 1).UserShstk)
            .Select(e => new object[] { e.Name });

    private static (LinuxKernel K, KernelTask T) Start(string cpu = "zen4-genoa", string variant = "6.17", int cpus = 1) =>
        KernelKit.Running("p", cpu, variant, cpus, WithShstk);

    private static SysResult Prctl(LinuxKernel k, KernelTask t, int option, ulong arg) => k.ShstkPrctl(t, option, arg, out _);

    private static ulong Status(LinuxKernel k, KernelTask t)
    {
        Assert.Equal(0, k.ArchPrctlCall(t, ArchPrctl.ShstkStatus, 0, out ulong v));
        return v;
    }

    // The CET_U image in the task's fpstate: (U_CET, PL3_SSP) if the component is in use there.
    private static (ulong Cet, ulong Ssp)? SavedCetUser(LinuxKernel k, KernelTask t)
    {
        var fps = t.Fpu.FpState;
        if ((fps.XstateBv & XFeatureMasks.CetUser) == 0)
            return null;
        int at = k.UabiConfig.KernelOffset(fps.XcompBv, (int)XFeature.CetUser);
        return (BinaryPrimitives.ReadUInt64LittleEndian(fps.Buffer.AsSpan(at)),
            BinaryPrimitives.ReadUInt64LittleEndian(fps.Buffer.AsSpan(at + LinuxKernel.CetUserSspOffset)));
    }

    /// <summary><c>shstk_setup()</c>: a shadow stack of PAGE_ALIGN(min(RLIMIT_STACK, 4G)) is mapped, IA32_PL3_SSP
    /// points at its top and IA32_U_CET = CET_SHSTK_EN — written as MSRs, kept in the task's CET_U xstate and
    /// switched by XSAVES/XRSTORS like any other state.</summary>
    [Theory]
    [MemberData(nameof(ShstkCpus))]
    public void Shstk_setup_writes_ssp_and_u_cet_into_the_tasks_cet_user_state(string cpu)
    {
        var (k, t) = Start(cpu, cpus: 1);
        Assert.Equal(0UL, Status(k, t));
        Assert.Equal(0, k.ArchPrctlCall(t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk, out _));
        Assert.Equal(ArchPrctl.ShstkShstk, Status(k, t));
        Assert.Equal(LinuxKernel.DefaultStackRlimit, t.Shstk.Size);
        Assert.Equal(t.Shstk.Top, k.UserSsp(t));
        Assert.Equal(XsaveDataRules.CetShstkEn, k.UserCet(t));
        Assert.Contains(t.Shstk, t.Mm.ShadowStacks);
        // Switched out and back: XSAVES stored the pair, XRSTORS brought it back.
        var other = k.SpawnProcess("other");
        k.Schedule(0, other);
        Assert.Equal((XsaveDataRules.CetShstkEn, t.Shstk.Top), SavedCetUser(k, t));
        Assert.Equal(0UL, k.UserSsp(other));
        k.Schedule(0, t);
        Assert.Equal(t.Shstk.Top, k.UserSsp(t));
        // Enabling again changes nothing ("already enabled").
        var first = t.Shstk;
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        Assert.Equal(first, t.Shstk);
        Assert.Single(t.Mm.ShadowStacks);
        KernelKit.AssertInvariants(k, cpu);
    }

    /// <summary><c>shstk_setup()</c>, <c>wrss_control()</c> and <c>shstk_disable()</c> without
    /// X86_FEATURE_USER_SHSTK on a kernel that has the code: -EOPNOTSUPP on a CPU without SHSTK (or without
    /// XSAVES for CET_U); STATUS still answers.</summary>
    [Theory]
    [InlineData("zen2-matisse", "6.17")]
    [InlineData("haswell", "6.6")]
    public void Without_user_shstk_on_the_cpu_every_change_is_eopnotsupp(string cpu, string variant)
    {
        var (k, t) = KernelKit.Running("p", cpu, variant, 1, BootOptions.Default with { UserShadowStack = true });
        Assert.False(k.UserShstk);
        Assert.Equal(Errno.EOPNOTSUPP, Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkWrss).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, Prctl(k, t, ArchPrctl.ShstkDisable, ArchPrctl.ShstkShstk).Errno);
        Assert.Equal(0UL, Status(k, t));
    }

    /// <summary>A kernel without the code refuses every ARCH_SHSTK_* option, STATUS included, with -EINVAL: the
    /// <c>shstk_prctl()</c> stub of asm/shstk.h without CONFIG_X86_USER_SHADOW_STACK, <c>do_arch_prctl_64()</c>'s
    /// default case before 6.6, and a 32-bit kernel's arch_prctl, which does not know the codes.</summary>
    [Theory]
    [InlineData("zen4-genoa", "6.17", false)]
    [InlineData("zen4-genoa", "6.1", true)]
    public void Without_the_kernel_code_every_option_is_einval(string cpu, string variant, bool config)
    {
        var (k, t) = KernelKit.Running("p", cpu, variant, 1, BootOptions.Default with { UserShadowStack = config });
        Assert.False(k.UserShstk);
        foreach (int option in new[] { ArchPrctl.ShstkEnable, ArchPrctl.ShstkDisable, ArchPrctl.ShstkLock, ArchPrctl.ShstkUnlock, ArchPrctl.ShstkStatus })
            Assert.Equal(-(long)Errno.EINVAL, k.ArchPrctlCall(t, option, ArchPrctl.ShstkShstk, out _));
        var (k32, t32) = KernelKit.Running("p", "zen4-genoa", "6.17", 1, WithShstk with { X86_64 = false });
        Assert.Equal(-(long)Errno.EINVAL, k32.ArchPrctlCall(t32, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk, out _));
    }

    /// <summary><c>shstk_prctl()</c>'s own checks, in its order: STATUS and LOCK first, a locked feature -EPERM,
    /// more than one feature bit -EINVAL, no known feature -EINVAL; STATUS into a bad pointer -EFAULT.</summary>
    [Fact]
    public void Shstk_prctl_checks_locks_then_one_feature_at_a_time()
    {
        var (k, t) = Start();
        Assert.Equal(Errno.EINVAL, Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk | ArchPrctl.ShstkWrss).Errno);
        Assert.Equal(Errno.EINVAL, Prctl(k, t, ArchPrctl.ShstkEnable, 1UL << 2).Errno);
        Assert.Equal(Errno.EINVAL, Prctl(k, t, ArchPrctl.ShstkDisable, 0).Errno);
        Assert.Equal(-(long)Errno.EFAULT, k.ArchPrctlCall(t, ArchPrctl.ShstkStatus, 0, out _, faultingPointer: true));
        // WRSS needs an enabled shadow stack.
        Assert.Equal(Errno.EPERM, Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkWrss).Errno);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkLock, ArchPrctl.ShstkShstk).Ok);
        Assert.Equal(Errno.EPERM, Prctl(k, t, ArchPrctl.ShstkDisable, ArchPrctl.ShstkShstk).Errno);
        // The lock covers the bits named; two bits with one locked is -EPERM before the one-bit rule.
        Assert.Equal(Errno.EPERM, Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk | ArchPrctl.ShstkWrss).Errno);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkWrss).Ok);
        Assert.Equal(ArchPrctl.ShstkShstk | ArchPrctl.ShstkWrss, Status(k, t));
        // The task cannot unlock itself: ARCH_SHSTK_UNLOCK from the task falls through to the ENABLE path.
        Assert.Equal(Errno.EPERM, Prctl(k, t, ArchPrctl.ShstkUnlock, ArchPrctl.ShstkShstk).Errno);
        Assert.Equal(ArchPrctl.ShstkShstk, t.ShstkFeaturesLocked);
    }

    /// <summary>Through ptrace (<c>task != current</c>) only STATUS, LOCK and UNLOCK (CONFIG_CHECKPOINT_RESTORE)
    /// work; ENABLE/DISABLE are -EINVAL and the XSTATE options -EPERM (<c>fpu_xstate_prctl()</c>).</summary>
    [Fact]
    public void Ptrace_may_lock_and_unlock_but_not_enable()
    {
        var (k, t) = Start();
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkLock, ArchPrctl.ShstkShstk).Ok);
        k.Block(t);
        Assert.Equal(Errno.EINVAL, k.PtraceArchPrctl(t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkWrss, out _).Errno);
        Assert.Equal(Errno.EINVAL, k.PtraceArchPrctl(t, ArchPrctl.ShstkDisable, ArchPrctl.ShstkShstk, out _).Errno);
        Assert.Equal(Errno.EPERM, k.PtraceArchPrctl(t, ArchPrctl.GetXcompPerm, 0, out _).Errno);
        Assert.True(k.PtraceArchPrctl(t, ArchPrctl.ShstkStatus, 0, out ulong st).Ok);
        Assert.Equal(ArchPrctl.ShstkShstk, st);
        Assert.True(k.PtraceArchPrctl(t, ArchPrctl.ShstkUnlock, ArchPrctl.ShstkShstk, out _).Ok);
        Assert.Equal(0UL, t.ShstkFeaturesLocked);
        k.Wake(t);
        k.Schedule(0, t);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkDisable, ArchPrctl.ShstkShstk).Ok);
    }

    /// <summary>ARCH_SHSTK_UNLOCK from the task itself reaches the ENABLE branch of <c>shstk_prctl()</c>: with
    /// nothing locked it enables the feature named.</summary>
    [Fact]
    public void Unlock_by_the_task_itself_enables_the_feature()
    {
        var (k, t) = Start();
        Assert.True(Prctl(k, t, ArchPrctl.ShstkUnlock, ArchPrctl.ShstkShstk).Ok);
        Assert.Equal(ArchPrctl.ShstkShstk, Status(k, t));
        Assert.Equal(t.Shstk.Top, k.UserSsp(t));
    }

    /// <summary><c>wrss_control()</c> sets and clears CET_WRSS_EN in U_CET; <c>shstk_disable()</c> writes U_CET = 0
    /// and SSP = 0 (WRSS goes too) and unmaps the stack.</summary>
    [Fact]
    public void Wrss_control_and_shstk_disable_edit_u_cet()
    {
        var (k, t) = Start();
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        var s = t.Shstk;
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkWrss).Ok);
        Assert.Equal(XsaveDataRules.CetShstkEn | XsaveDataRules.CetWrssEn, k.UserCet(t));
        Assert.True(Prctl(k, t, ArchPrctl.ShstkDisable, ArchPrctl.ShstkWrss).Ok);
        Assert.Equal(XsaveDataRules.CetShstkEn, k.UserCet(t));
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkWrss).Ok);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkDisable, ArchPrctl.ShstkShstk).Ok);
        Assert.Equal(0UL, Status(k, t));
        Assert.Equal(0UL, k.UserCet(t));
        Assert.Equal(0UL, k.UserSsp(t));
        Assert.DoesNotContain(s, t.Mm.ShadowStacks);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkDisable, ArchPrctl.ShstkShstk).Ok); // already disabled
        KernelKit.AssertInvariants(k);
    }

    /// <summary>exec: <c>reset_thread_features()</c> clears features and locks, the old mm goes, and
    /// <c>fpu_flush_thread()</c> puts CET_U back to init (U_CET = SSP = 0) — the new program starts without a
    /// shadow stack even when the old one had locked it on.</summary>
    [Fact]
    public void Exec_resets_features_locks_and_the_cet_user_registers()
    {
        var (k, t) = Start();
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkLock, ArchPrctl.ShstkShstk | ArchPrctl.ShstkWrss).Ok);
        var oldMm = t.Mm;
        k.Exec(t);
        Assert.Equal(0UL, Status(k, t));
        Assert.Equal(0UL, t.ShstkFeaturesLocked);
        Assert.Equal(default, t.Shstk);
        Assert.NotSame(oldMm, t.Mm);
        Assert.Empty(t.Mm.ShadowStacks);
        Assert.Equal(0UL, k.UserCet(t));
        Assert.Equal(0UL, k.UserSsp(t));
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
    }

    /// <summary>clone(CLONE_VM|CLONE_THREAD) of a task with shadow stacks: <c>shstk_alloc_thread_stack()</c> maps
    /// a new stack of PAGE_ALIGN(stack_size) and <c>fpu_clone()</c> → <c>update_fpu_shstk()</c> writes its top
    /// into the child's CET_U user_ssp, so the thread starts on its own stack; the parent's is untouched. The
    /// thread's exit (<c>deactivate_mm()</c> → <c>shstk_free()</c>) unmaps only its own stack.</summary>
    [Theory]
    [MemberData(nameof(ShstkCpus))]
    public void A_clone_vm_thread_starts_on_its_own_shadow_stack(string cpu)
    {
        var (k, t) = Start(cpu, cpus: 2);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        var parentStack = t.Shstk;
        var th = k.Fork(t, thread: true, stackSize: 0x5001);
        Assert.Equal(ArchPrctl.ShstkShstk, th.ShstkFeatures);
        Assert.Same(t.Mm, th.Mm);
        Assert.Equal(0x6000UL, th.Shstk.Size);
        Assert.NotEqual(parentStack, th.Shstk);
        Assert.Equal((XsaveDataRules.CetShstkEn, th.Shstk.Top), SavedCetUser(k, th));
        k.Schedule(1, th);
        Assert.Equal(th.Shstk.Top, k.UserSsp(th));
        Assert.Equal(parentStack.Top, k.UserSsp(t));
        // stack_size 0: the default size, as for the first stack.
        var th2 = k.Fork(t, thread: true);
        Assert.Equal(LinuxKernel.DefaultStackRlimit, th2.Shstk.Size);
        Assert.Equal(3, t.Mm.ShadowStacks.Count);
        k.Exit(th);
        Assert.DoesNotContain(th.Shstk with { Size = 0x6000 }, t.Mm.ShadowStacks);
        Assert.Contains(parentStack, t.Mm.ShadowStacks);
        KernelKit.AssertInvariants(k, cpu);
    }

    /// <summary>fork() (no CLONE_VM): the child runs on its copy of the parent's shadow stack — same stack, same SSP
    /// (<c>shstk_alloc_thread_stack()</c> returns 0, so <c>update_fpu_shstk()</c> changes nothing). vfork()
    /// (CLONE_VM|CLONE_VFORK): the child shares the parent's stack and records none of its own, so its exit does
    /// not unmap the parent's.</summary>
    [Fact]
    public void Fork_copies_and_vfork_shares_the_parents_shadow_stack()
    {
        var (k, t) = Start(cpus: 2);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        var s = t.Shstk;
        var child = k.Fork(t);
        Assert.NotSame(t.Mm, child.Mm);
        Assert.Equal(s, child.Shstk);
        Assert.Contains(s, child.Mm.ShadowStacks);
        Assert.Equal((XsaveDataRules.CetShstkEn, s.Top), SavedCetUser(k, child));
        var vf = k.Fork(t, vfork: true);
        Assert.Same(t.Mm, vf.Mm);
        Assert.Equal(default, vf.Shstk);
        Assert.Equal((XsaveDataRules.CetShstkEn, s.Top), SavedCetUser(k, vf));
        k.Exit(vf);
        Assert.Contains(s, t.Mm.ShadowStacks);
        k.Exit(child);
        Assert.Contains(s, t.Mm.ShadowStacks);
    }

    /// <summary>Without shadow stacks a new thread gets none and its CET_U stays in its init state
    /// (<c>shstk_alloc_thread_stack()</c> returns 0 when the feature is off).</summary>
    [Fact]
    public void Threads_of_a_task_without_shadow_stacks_get_none()
    {
        var (k, t) = Start();
        var th = k.Fork(t, thread: true);
        Assert.Equal(default, th.Shstk);
        Assert.Empty(t.Mm.ShadowStacks);
        Assert.Null(SavedCetUser(k, th));
    }

    private static byte[] Q(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    /// <summary>NT_X86_SHSTK (arch/x86/kernel/fpu/regset.c): <c>ssp_get()</c>/<c>ssp_set()</c> are -ENODEV until
    /// the task enables a shadow stack (<c>ssp_active()</c>); GET returns user_ssp from the CET_U state; SET takes
    /// exactly 8 bytes, refuses a value at or above TASK_SIZE_MAX or not 8-byte aligned (-EINVAL, the task
    /// unchanged) and otherwise writes user_ssp, which the task runs with after fpu_force_restore().</summary>
    [Theory]
    [InlineData("zen4-genoa")]
    [InlineData("zen4-raphael")]
    public void Nt_x86_shstk_reads_and_writes_user_ssp_with_ssp_get_and_ssp_set(string cpu)
    {
        var (k, t) = Start(cpu);
        var cfg = k.UabiConfig;
        k.Block(t);
        Assert.Equal(Errno.ENODEV, KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Shstk, 8).Errno);
        Assert.Equal(Errno.ENODEV, KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Shstk, Q(0x1000)).Errno);
        k.Wake(t);
        k.Schedule(0, t);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        k.Block(t);
        var get = KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Shstk, 16);
        Assert.True(get.Ok, get.Rule);
        Assert.Equal(8, get.IovLen);
        Assert.Equal(Q(t.Shstk.Top), get.Data);
        Assert.Equal(Errno.EINVAL, KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Shstk, []).Errno);
        Assert.Equal(Errno.EINVAL, KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Shstk, Q(t.Shstk.Top - 4)).Errno);
        Assert.Equal(Errno.EINVAL, KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Shstk, Q(k.TaskSizeMax)).Errno);
        Assert.Equal(Q(t.Shstk.Top), KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Shstk, 8).Data);
        ulong moved = t.Shstk.Top - 0x40;
        var set = KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Shstk, Q(moved));
        Assert.True(set.Ok, set.Rule);
        Assert.Equal(-1, t.Fpu.LastCpu);
        Assert.True(KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Shstk, Q(k.TaskSizeMax - 8)).Ok);
        Assert.True(KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Shstk, Q(moved)).Ok);
        k.Wake(t);
        k.Schedule(0, t);
        Assert.Equal(moved, k.UserSsp(t));
        KernelKit.AssertInvariants(k, cpu);
    }

    /// <summary>Where the regset does not exist (CONFIG_X86_USER_SHADOW_STACK off) <c>find_regset()</c> gives
    /// -EINVAL; where it exists but the CPU or release lacks USER_SHSTK, -ENODEV.</summary>
    [Theory]
    [InlineData("zen4-genoa", "6.17", false, Errno.EINVAL)]
    [InlineData("zen2-matisse", "6.17", true, Errno.ENODEV)]
    [InlineData("zen4-genoa", "6.1", true, Errno.ENODEV)]
    public void Nt_x86_shstk_without_user_shstk(string cpu, string variant, bool config, Errno expected)
    {
        var (k, t) = KernelKit.Running("p", cpu, variant, 1, BootOptions.Default with { UserShadowStack = config });
        k.Block(t);
        Assert.Equal(expected, KernelTaskUabi.PtraceGetRegset(k.UabiConfig, t, NoteType.NtX86Shstk, 8).Errno);
        Assert.Equal(expected, KernelTaskUabi.PtraceSetRegset(k.UabiConfig, t, NoteType.NtX86Shstk, Q(0x1000)).Errno);
    }

    /// <summary>Core dumps (<c>fill_thread_core_info()</c>): a thread's NT_X86_SHSTK note is written only while its
    /// shadow stack is enabled (<c>ssp_active()</c> counts the regset), holding its SSP; NT_PRFPREG and
    /// NT_X86_XSTATE are always there.</summary>
    [Fact]
    public void Core_notes_carry_nt_x86_shstk_only_for_threads_with_a_shadow_stack()
    {
        var (k, t) = Start(cpus: 2);
        var plain = k.SpawnProcess("plain");
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        var th = k.Fork(t, thread: true);
        k.Block(t);
        var cfg = k.UabiConfig;
        int[] Types(KernelTask x) => [.. ThreadFpuNotes.Build(cfg, KernelTaskUabi.View(x)).Select(n => n.Type)];
        Assert.Equal([NoteType.NtPrfpreg, NoteType.NtX86Xstate, NoteType.NtX86Shstk], Types(t));
        Assert.Equal([NoteType.NtPrfpreg, NoteType.NtX86Xstate], Types(plain));
        var notes = ThreadFpuNotes.Build(cfg, KernelTaskUabi.View(th));
        Assert.Equal(Q(th.Shstk.Top), notes.Single(n => n.Type == NoteType.NtX86Shstk).Desc);
        Assert.Equal(ElfNote.LinuxOwner, notes.Single(n => n.Type == NoteType.NtX86Shstk).Name);
        Assert.Equal(ElfNote.CoreOwner, notes.Single(n => n.Type == NoteType.NtPrfpreg).Name);
    }

    private const ulong Restorer = 0x40_1000;
    private const ulong DataBit = 1UL << 63;

    /// <summary>Signal delivery and rt_sigreturn with a shadow stack: <c>setup_signal_shadow_stack()</c> pushes the
    /// restore token (old SSP | bit 63) and the restorer and moves SSP 16 bytes down; the handler's RET pops the
    /// restorer; <c>restore_signal_shadow_stack()</c> checks the token at SSP and puts SSP back where it was.</summary>
    [Theory]
    [MemberData(nameof(ShstkCpus))]
    public void Signal_frames_push_a_restore_token_that_sigreturn_pops(string cpu)
    {
        var (k, t) = Start(cpu);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        ulong ssp0 = k.UserSsp(t);
        var setup = k.SetupSignalShadowStack(t, Restorer);
        Assert.True(setup.Ok, setup.Rule);
        Assert.Equal(ssp0 - 16, k.UserSsp(t));
        Assert.Equal(ssp0 | DataBit, t.Mm.Read(ssp0 - 8));
        Assert.Equal(Restorer, t.Mm.Read(ssp0 - 16));
        // A nested signal stacks a second pair below the first.
        Assert.True(k.SetupSignalShadowStack(t, Restorer + 0x10).Ok);
        Assert.Equal((ssp0 - 16) | DataBit, t.Mm.Read(ssp0 - 24));
        Assert.Equal(Restorer + 0x10, k.ShadowStackReturn(t));
        Assert.True(k.RestoreSignalShadowStack(t).Ok);
        Assert.Equal(ssp0 - 16, k.UserSsp(t));
        Assert.Equal(Restorer, k.ShadowStackReturn(t));
        Assert.Equal(ssp0 - 8, k.UserSsp(t));
        var r = k.RestoreSignalShadowStack(t);
        Assert.True(r.Ok, r.Rule);
        Assert.Equal(ssp0, k.UserSsp(t));
        Assert.Empty(t.Signals);
        KernelKit.AssertInvariants(k, cpu);
    }

    /// <summary>Without a shadow stack nothing is pushed or popped; without sa_restorer
    /// <c>setup_signal_shadow_stack()</c> is -EINVAL and the delivery fails with SIGSEGV (force_sigsegv()).</summary>
    [Fact]
    public void Signal_setup_without_shadow_stack_or_restorer()
    {
        var (k, t) = Start();
        Assert.True(k.SetupSignalShadowStack(t, Restorer).Ok);
        Assert.True(k.RestoreSignalShadowStack(t).Ok);
        Assert.Equal(0UL, k.UserSsp(t));
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        ulong ssp0 = k.UserSsp(t);
        var r = k.SetupSignalShadowStack(t, 0);
        Assert.Equal(Errno.EINVAL, r.Errno);
        Assert.Equal(ssp0, k.UserSsp(t));
        Assert.Equal(SignalInfo.SIGSEGV, Assert.Single(t.Signals).Signo);
    }

    /// <summary><c>shstk_pop_sigframe()</c> refuses what is not a restore token: an entry without bit 63 (a return
    /// address — e.g. sigreturn without the handler's RET, or a token a WRSS overwrote), a token naming an
    /// unaligned address or one at TASK_SIZE_MAX and above (-EINVAL), and an SSP off shadow stack memory
    /// (-EFAULT). Each is rt_sigreturn's badframe: SIGSEGV, SSP unchanged.</summary>
    [Theory]
    [InlineData("no ret", Errno.EINVAL)]
    [InlineData("bit 63 clear", Errno.EINVAL)]
    [InlineData("unaligned", Errno.EINVAL)]
    [InlineData("task size", Errno.EINVAL)]
    [InlineData("off the stack", Errno.EFAULT)]
    public void Sigreturn_with_a_bad_token_is_sigsegv(string tamper, Errno expected)
    {
        var (k, t) = Start();
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkWrss).Ok);
        ulong ssp0 = k.UserSsp(t);
        Assert.True(k.SetupSignalShadowStack(t, Restorer).Ok);
        if (tamper != "no ret")
            Assert.Equal(Restorer, k.ShadowStackReturn(t));
        ulong tokenAt = ssp0 - 8;
        switch (tamper)
        {
            case "bit 63 clear":
                Assert.Null(k.Wrss(t, tokenAt, ssp0));
                break;
            case "unaligned":
                Assert.Null(k.Wrss(t, tokenAt, (ssp0 - 4) | DataBit));
                break;
            case "task size":
                Assert.Null(k.Wrss(t, tokenAt, k.TaskSizeMax | DataBit));
                break;
            case "off the stack":
                k.Block(t);
                Assert.True(KernelTaskUabi.PtraceSetRegset(k.UabiConfig, t, NoteType.NtX86Shstk, Q(0x1000)).Ok);
                k.Wake(t);
                k.Schedule(0, t);
                break;
        }
        ulong before = k.UserSsp(t);
        var r = k.RestoreSignalShadowStack(t);
        Assert.Equal(expected, r.Errno);
        Assert.Equal(before, k.UserSsp(t));
        Assert.Equal(SignalInfo.SIGSEGV, Assert.Single(t.Signals).Signo);
    }

    /// <summary>User WRSS needs CET_WRSS_EN (ARCH_SHSTK_WRSS) and a shadow stack target; otherwise SIGSEGV.</summary>
    [Fact]
    public void Wrss_needs_the_wrss_feature_and_shadow_stack_memory()
    {
        var (k, t) = Start();
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkShstk).Ok);
        ulong top = t.Shstk.Top;
        Assert.NotNull(k.Wrss(t, top - 8, 1));
        Assert.Equal(0UL, t.Mm.Read(top - 8));
        Assert.True(Prctl(k, t, ArchPrctl.ShstkEnable, ArchPrctl.ShstkWrss).Ok);
        Assert.Null(k.Wrss(t, top - 8, 1));
        Assert.Equal(1UL, t.Mm.Read(top - 8));
        Assert.NotNull(k.Wrss(t, top, 1)); // the guard page above the top
        Assert.Equal(2, t.Signals.Count);
    }
}
