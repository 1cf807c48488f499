namespace XsaveLab.Kernel.Tasks;

public sealed partial class LinuxKernel
{
    /// <summary><c>fpu_xstate_prctl(option, arg2)</c>: GET_* write a mask to <paramref name="value"/>; REQ_* take a
    /// feature number in <paramref name="arg"/>. ARCH_SHSTK_* go to <see cref="ShstkPrctl"/>. Returns 0 or a negative errno (<paramref name="faultingPointer"/>
    /// models an unwritable user pointer for GET_*: -EFAULT from put_user()).</summary>
    public long ArchPrctlCall(KernelTask task, int option, ulong arg, out ulong value, bool faultingPointer = false)
    {
        value = 0;
        switch (option)
        {
            case ArchPrctl.GetXcompSupp:
                value = System.UserCfg.MaxFeatures | System.UserCfg.LegacyFeatures;
                return faultingPointer ? -(long)Errno.EFAULT : 0;
            case ArchPrctl.GetXcompPerm:
                value = GroupPerm(task, guest: false) & XFeatureMasks.UserSupported;
                return faultingPointer ? -(long)Errno.EFAULT : 0;
            case ArchPrctl.GetXcompGuestPerm:
                value = GroupPerm(task, guest: true) & XFeatureMasks.UserSupported;
                return faultingPointer ? -(long)Errno.EFAULT : 0;
            case ArchPrctl.ReqXcompGuestPerm:
            case ArchPrctl.ReqXcompPerm:
                if (!System.Options.X86_64)
                    return -(long)Errno.EOPNOTSUPP;
                return XstateRequestPerm(task, arg, option == ArchPrctl.ReqXcompGuestPerm);
            case >= ArchPrctl.ShstkEnable and <= ArchPrctl.ShstkStatus:
                // do_arch_prctl_64() only: a 32-bit kernel's do_arch_prctl_common() does not know the codes.
                if (!System.Options.X86_64)
                    return -(long)Errno.EINVAL;
                return ShstkPrctl(task, option, arg, out value, faultingPointer: faultingPointer).Value;
            default:
                return -(long)Errno.EINVAL;
        }
    }

    /// <summary>Shorthand for a GET_* call.</summary>
    public ulong ArchPrctlGet(KernelTask task, int option)
    {
        long r = ArchPrctlCall(task, option, 0, out ulong v);
        if (r != 0)
            throw new InvalidOperationException($"arch_prctl(0x{option:x}) returned {ErrnoNames.Result(r)}");
        return v;
    }

    /// <summary>Shorthand for a REQ_* call.</summary>
    public long ArchPrctlRequest(KernelTask task, int feature, bool guest = false) =>
        ArchPrctlCall(task, guest ? ArchPrctl.ReqXcompGuestPerm : ArchPrctl.ReqXcompPerm, (ulong)feature, out _);

    // xstate_request_perm(idx, guest).
    private long XstateRequestPerm(KernelTask task, ulong idx, bool guest)
    {
        if (idx >= XFeatureTable.Count)
            return -(long)Errno.EINVAL;
        // xstate_prctl_req[]: the only requestable facility is XTILE_DATA.
        ulong requested = idx == (ulong)XFeature.XtileData ? XFeatureMasks.XtileData : 0;
        if (requested == 0)
            return -(long)Errno.EOPNOTSUPP;
        if ((System.UserCfg.MaxFeatures & requested) != requested)
            return -(long)Errno.EOPNOTSUPP;
        // Lockless quick check, then under sighand->siglock.
        ulong permitted = GroupPerm(task, guest);
        if ((permitted & requested) == requested)
            return 0;
        permitted = GroupPerm(task, guest);
        if (guest && (permitted & FpuSystem.GuestPermLocked) != 0)
            return -(long)Errno.EBUSY;
        return XstateRequestPermLocked(task, permitted, requested, guest);
    }

    // __xstate_request_perm(): fixed (d8414603b29f) or original form per variant.
    private long XstateRequestPermLocked(KernelTask task, ulong permitted, ulong requested, bool guest)
    {
        bool compacted = System.Compacted;
        if ((permitted & requested) == requested)
            return 0;
        ulong mask = permitted | requested;
        int ksize, usize;
        if (Variant.StatePermPreservesNonUser)
        {
            ksize = System.CalculateSize(mask, compacted);
            usize = System.CalculateSize(mask & XFeatureMasks.UserSupported, false);
        }
        else
        {
            if (!guest)
                mask |= System.SupervisorMask;
            ksize = System.CalculateSize(mask, compacted);
            mask &= XFeatureMasks.UserSupported;
            usize = System.CalculateSize(mask, false);
        }
        if (!guest)
        {
            long r = ValidateSigaltstack(task, usize);
            if (r != 0)
                return r;
        }
        var leader = task.Leader.Fpu;
        var perm = new FpuStatePerm(mask, ksize, usize);
        if (guest)
            leader.GuestPerm = perm;
        else
            leader.Perm = perm;
        return 0;
    }

    // validate_sigaltstack(usize): every thread's altstack must hold a frame with the new user size.
    private long ValidateSigaltstack(KernelTask task, int usize)
    {
        long framesize = System.MaxFrameSize - System.UserCfg.MaxSize + usize;
        foreach (var t in task.Leader.Group.Threads)
            if (t.SasSsSize != 0 && (long)t.SasSsSize < framesize)
                return -(long)Errno.ENOSPC;
        return 0;
    }

    /// <summary>sigaltstack(): <paramref name="size"/> 0 disables (SS_DISABLE). kernel/signal.c
    /// <c>do_sigaltstack()</c>: below MINSIGSTKSZ or refused by the arch check ⇒ -ENOMEM.</summary>
    public long Sigaltstack(KernelTask task, ulong size)
    {
        if (size == 0)
        {
            task.SasSsSize = 0;
            return 0;
        }
        if (size < ArchPrctl.MinSigStkSz || !SigaltstackSizeValid(task, size))
            return -(long)Errno.ENOMEM;
        task.SasSsSize = size;
        return 0;
    }

    /// <summary>sigaltstack_size_valid() (arch/x86/kernel/signal.c): checked against the frame for the group's
    /// permitted user size; enforced only with dynamic features permitted (or strict mode).</summary>
    public bool SigaltstackSizeValid(KernelTask task, ulong ssSize)
    {
        bool strict = System.Options.StrictSigaltstackSize;
        if (!FpuStateSizeDynamic && !strict)
            return true;
        var perm = task.Leader.Fpu.Perm;
        long fsize = System.MaxFrameSize - System.FpuDefaultStateSize + perm.UserStateSize;
        if ((long)ssSize > fsize)
            return true;
        if (strict)
            return false;
        if ((perm.StatePerm & XFeatureMasks.UserDynamic) != 0)
            return false;
        return true;
    }
}
