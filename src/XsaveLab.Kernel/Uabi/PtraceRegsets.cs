namespace XsaveLab.Kernel.Uabi;

/// <summary>PTRACE_GETREGSET / PTRACE_SETREGSET for the FPU regsets of the x86-64 view.</summary>
/// <remarks>
/// kernel/ptrace.c <c>ptrace_regset()</c>: unknown type or iov_len not a multiple of regset->size ⇒ -EINVAL;
/// iov_len is clamped to n*size (this is why a 4096-byte SETREGSET of NT_X86_XSTATE is accepted: it is cut
/// to fpu_user_cfg.max_size before xstateregs_set sees it); on success iov_len is written back.
/// arch/x86/kernel/ptrace.c x86_64_regsets: NT_PRFPREG and NT_X86_XSTATE both have size sizeof(u64);
/// n = 512/8 and fpu_user_cfg.max_size/8. arch/x86/kernel/fpu/regset.c: xfpregs_get/set, xstateregs_get/set.
/// </remarks>
public static class PtraceRegsets
{
    public const int RegsetSize = 8;

    /// <summary>The byte length of a regset (regset->n * regset->size), or -1 if the type has no FPU regset
    /// in this view (NT_X86_SHSTK exists only with CONFIG_X86_USER_SHADOW_STACK).</summary>
    public static int Length(UabiConfig cfg, int noteType) => noteType switch
    {
        NoteType.NtPrfpreg => XsaveOffsets.FxsaveSize,
        NoteType.NtX86Xstate => cfg.UserMaxSize / RegsetSize * RegsetSize,
        NoteType.NtX86Shstk when cfg.Build.UserShadowStack => RegsetSize,
        _ => -1,
    };

    public static RegsetResult Get(UabiConfig cfg, UabiTask task, int noteType, int iovLen)
    {
        var pre = Prepare(cfg, noteType, iovLen, out int count);
        if (pre is { } fail)
            return fail;
        if (noteType == NoteType.NtX86Xstate && !cfg.UseXsave)
            return new(SysResult.Fail(Errno.ENODEV, "xstateregs_get: no XSAVE"), 0, []);
        if (noteType == NoteType.NtX86Shstk)
            return SspGet(cfg, task, iovLen, count);
        // __regset_get(): a zeroed buffer of the clamped size, filled through a membuf.
        var data = new byte[count];
        XstateUabi.CopyXstateToUabiBuf(cfg, task, noteType == NoteType.NtPrfpreg ? XstateCopyMode.Fx : XstateCopyMode.Xsave, data);
        return new(SysResult.Success(), count, data);
    }

    /// <summary>SET with the caller's buffer (its length is iov_len). On any error the task is unchanged.</summary>
    public static RegsetResult Set(UabiConfig cfg, UabiTask task, int noteType, ReadOnlySpan<byte> iov)
    {
        var pre = Prepare(cfg, noteType, iov.Length, out int count);
        if (pre is { } fail)
            return fail;
        var src = iov[..count];
        if (noteType == NoteType.NtX86Shstk)
        {
            var s = SspSet(cfg, task, src);
            return new(s, s.Ok ? count : iov.Length, []);
        }
        SysResult r = noteType == NoteType.NtPrfpreg ? XfpregsSet(cfg, task, src) : XstateregsSet(cfg, task, src);
        return new(r, r.Ok ? count : iov.Length, []);
    }

    /// <summary><c>ssp_active()</c>: the regset counts (n = 1) only for a task with ARCH_SHSTK_SHSTK enabled;
    /// core dumps skip inactive regsets (fs/binfmt_elf.c <c>fill_thread_core_info()</c>).</summary>
    public static bool SspActive(UabiTask task) => task.ShstkEnabled;

    // ssp_get(): -ENODEV without USER_SHSTK or an enabled shadow stack (the ssp_active() test came with
    // "x86/fpu: Ensure shadow stack is active before 'getting' registers", backported to the 6.6 and 6.12 stable
    // series); then user_ssp from the CET_U state, whose absence (XSTATE_BV bit clear) is a WARN and -ENODEV.
    private static RegsetResult SspGet(UabiConfig cfg, UabiTask task, int iovLen, int count)
    {
        if (!cfg.UserShstk || !SspActive(task))
            return new(SysResult.Fail(Errno.ENODEV, cfg.UserShstk ? "ssp_get: shadow stack not enabled for the task (ssp_active())" : "ssp_get: no X86_FEATURE_USER_SHSTK"), iovLen, []);
        if (CetUserSsp(cfg, task.Fpstate) is not int at)
            return new(SysResult.Fail(Errno.ENODEV, "ssp_get: WARN_ON(!cetregs): CET_U in its init state"), iovLen, []);
        var data = new byte[count];
        task.Fpstate.Buffer.AsSpan(at, count).CopyTo(data);
        return new(SysResult.Success(0, "ssp_get: cet_user_state.user_ssp"), count, data);
    }

    // ssp_set(): -ENODEV as for GET; exactly 8 bytes at position 0 (-EINVAL); the value must be below TASK_SIZE_MAX
    // and 8-byte aligned (-EINVAL: IRET and friends would fault on it); then fpu_force_restore() and user_ssp.
    private static SysResult SspSet(UabiConfig cfg, UabiTask task, ReadOnlySpan<byte> src)
    {
        if (!cfg.UserShstk || !SspActive(task))
            return SysResult.Fail(Errno.ENODEV, cfg.UserShstk ? "ssp_set: shadow stack not enabled for the task (ssp_active())" : "ssp_set: no X86_FEATURE_USER_SHSTK");
        if (src.Length != RegsetSize)
            return SysResult.Fail(Errno.EINVAL, $"ssp_set: count {src.Length} != sizeof(user_ssp) {RegsetSize}");
        ulong ssp = BinaryPrimitives.ReadUInt64LittleEndian(src);
        if (ssp >= cfg.TaskSizeMax)
            return SysResult.Fail(Errno.EINVAL, $"ssp_set: 0x{ssp:x} >= TASK_SIZE_MAX 0x{cfg.TaskSizeMax:x}");
        if ((ssp & 7) != 0)
            return SysResult.Fail(Errno.EINVAL, $"ssp_set: 0x{ssp:x} is not 8-byte aligned");
        task.RegistersInvalidated = true;
        if (CetUserSsp(cfg, task.Fpstate) is not int at)
            return SysResult.Fail(Errno.ENODEV, "ssp_set: WARN_ON(!cetregs): CET_U in its init state");
        BinaryPrimitives.WriteUInt64LittleEndian(task.Fpstate.Buffer.AsSpan(at), ssp);
        return SysResult.Success(0, "ssp_set: cet_user_state.user_ssp");
    }

    // get_xsave_addr(CET_USER) + offsetof(struct cet_user_state, user_ssp): null when XSTATE_BV lacks CET_U.
    private static int? CetUserSsp(UabiConfig cfg, FpState fps) =>
        (fps.XstateBv & XFeatureMasks.CetUser) == 0 ? null : cfg.KernelOffset(fps.XcompBv, (int)XFeature.CetUser) + LinuxKernel.CetUserSspOffset;

    private static RegsetResult? Prepare(UabiConfig cfg, int noteType, int iovLen, out int count)
    {
        count = 0;
        int len = Length(cfg, noteType);
        if (len < 0)
            return new(SysResult.Fail(Errno.EINVAL, $"find_regset: no regset 0x{noteType:x} in the x86_64 view"), iovLen, []);
        if (iovLen % RegsetSize != 0)
            return new(SysResult.Fail(Errno.EINVAL, $"ptrace_regset(): iov_len {iovLen} is not a multiple of regset->size {RegsetSize}", iovLen / RegsetSize * RegsetSize), iovLen, []);
        count = Math.Min(iovLen, len);
        return null;
    }

    /// <summary><c>xstateregs_set()</c>: pos 0 and count == fpu_user_cfg.max_size, else -EFAULT; then
    /// fpu_force_restore() and copy_uabi_from_kernel_to_xstate(fpstate, buf, &amp;thread.pkru).</summary>
    private static SysResult XstateregsSet(UabiConfig cfg, UabiTask task, ReadOnlySpan<byte> src)
    {
        if (!cfg.UseXsave)
            return SysResult.Fail(Errno.ENODEV, "xstateregs_set: no XSAVE");
        if (src.Length != cfg.UserMaxSize)
            return SysResult.Fail(Errno.EFAULT, $"xstateregs_set(): count {src.Length} != fpu_user_cfg.max_size {cfg.UserMaxSize}: a whole standard-format buffer is needed", src.Length);
        // Validate on a copy so a rejected image leaves the task untouched (the kernel validates before writing;
        // fpu_force_restore() only invalidates the register cache).
        var staged = task.Fpstate.Clone();
        uint pkru = task.Pkru;
        var r = XstateUabi.CopyUabiToXstate(cfg, staged, src, ref pkru, updatePkru: true);
        task.RegistersInvalidated = true;
        if (!r.Ok)
            return r;
        staged.Buffer.CopyTo(task.Fpstate.Buffer, 0);
        task.Fpstate.XstateBv = staged.XstateBv;
        task.Pkru = pkru;
        return r;
    }

    /// <summary><c>xfpregs_set()</c>: exactly 512 bytes at pos 0 (-EINVAL), MXCSR within mxcsr_feature_mask
    /// (-EINVAL), then the whole FXSAVE image is copied and FP|SSE are marked in use.</summary>
    private static SysResult XfpregsSet(UabiConfig cfg, UabiTask task, ReadOnlySpan<byte> src)
    {
        if (src.Length != XsaveOffsets.FxsaveSize)
            return SysResult.Fail(Errno.EINVAL, $"xfpregs_set(): count {src.Length} != sizeof(struct fxregs_state) {XsaveOffsets.FxsaveSize}", Math.Min(src.Length, XsaveOffsets.FxsaveSize));
        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(src[XsaveOffsets.Mxcsr..]);
        if (XsaveDataRules.MxcsrViolationAt(mxcsr, cfg.MxcsrFeatureMask) is { } bad)
            return SysResult.Fail(Errno.EINVAL, $"xfpregs_set(): MXCSR 0x{mxcsr:x8} sets reserved bits", bad.Offset);
        task.RegistersInvalidated = true;
        src.CopyTo(task.Fpstate.Buffer);
        if (cfg.UseXsave)
            task.Fpstate.XstateBv |= XFeatureMasks.FpSse;
        return SysResult.Success();
    }
}
