namespace XsaveLab.Kernel.Uabi;

/// <summary>User segment selectors of a 32-bit task (they end up in the fsave header's fcs/fos).</summary>
/// <param name="Cs">pt_regs->cs, __USER32_CS = 0x23 on x86-64.</param>
/// <param name="Ds">The task's DS, __USER_DS = 0x2B.</param>
public readonly record struct Ia32Segments(ushort Cs = 0x23, ushort Ds = 0x2B);

/// <summary>32-bit (ia32) signal frames on a 64-bit kernel with IA32 emulation: a 112-byte FSAVE header
/// (<c>struct _fpstate_32</c> legacy part) precedes the 64-byte aligned XSAVE image, and sigreturn copies the
/// image into the kernel buffer (<c>copy_sigframe_from_user_to_xstate()</c>) before folding the header in.</summary>
public static class Ia32Sigframes
{
    /// <summary>X86_FXSR_MAGIC: the header's magic for frames with FXSR data (0xFFFF = FSAVE data only).</summary>
    public const ushort X86FxsrMagic = 0x0000;

    /// <summary>Bytes a frame occupies: the fsave header, user_size and MAGIC2.</summary>
    public static int FrameSize(FpState fps) => Boot.FpuSystem.FregsStateSize + fps.UserSize + SigframeSizes.Magic2Size;

    /// <summary><c>copy_fpstate_to_sigframe(buf, buf_fx)</c> with buf ≠ buf_fx: the XSAVE image at
    /// buf + 112 (extended_size += 112 in the sw bytes), then <c>save_fsave_header()</c>: the FSAVE environment
    /// converted from the FXSAVE state, status = FSW, magic = X86_FXSR_MAGIC.</summary>
    public static void CopyFpstateToSigframe(UabiConfig cfg, UabiTask task, Span<byte> frame, Ia32Segments segments = default)
    {
        if (segments == default)
            segments = new Ia32Segments();
        if (frame.Length < FrameSize(task.Fpstate))
            throw new ArgumentException($"frame must hold {FrameSize(task.Fpstate)} bytes", nameof(frame));
        var fx = frame[Boot.FpuSystem.FregsStateSize..];
        Sigframes.CopyFpstateToSigframe(cfg, task, fx);
        uint ext = BinaryPrimitives.ReadUInt32LittleEndian(fx[(XsaveOffsets.SwReserved + 4)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(fx[(XsaveOffsets.SwReserved + 4)..], ext + Boot.FpuSystem.FregsStateSize);

        // save_fsave_header(): FXSAVE of the live registers (their x87 state: the buffer's, or init).
        Span<byte> fxsave = stackalloc byte[XsaveOffsets.FxsaveSize];
        XstateUabi.CopyXstateToUabiBuf(cfg, task, XstateCopyMode.Fx, fxsave);
        FxsrConversions.ConvertFromFxsr(fxsave, frame, segments.Cs, segments.Ds);
        BinaryPrimitives.WriteUInt16LittleEndian(frame[FxsrConversions.EnvSize..], BinaryPrimitives.ReadUInt16LittleEndian(fxsave[XsaveOffsets.Fsw..]));
        BinaryPrimitives.WriteUInt16LittleEndian(frame[(FxsrConversions.EnvSize + 2)..], X86FxsrMagic);
    }

    /// <summary><c>fpu__restore_sig(buf, ia32_frame = 1)</c> → <c>__fpu_restore_sig(buf, buf + 112, true)</c>.</summary>
    /// <remarks>
    /// check_xstate_in_sigframe() on buf_fx; the 108-byte environment from buf. XSAVE frames:
    /// <c>copy_sigframe_from_user_to_xstate()</c> (= copy_uabi_to_xstate with thread.pkru): header or MXCSR
    /// rules ⇒ failure. FX-only frames: the 512-byte image copied, MXCSR reserved bits ⇒ failure (64-bit kernel),
    /// FP|SSE marked in use. Then the environment is folded in (<c>convert_to_fxsr()</c>), XSTATE_BV limited to
    /// the frame's user features plus supervisor ones, and the buffer restored. Failure ⇒
    /// fpu__clear_user_states() and SIGSEGV.
    /// </remarks>
    public static SigreturnResult FpuRestoreSig(UabiConfig cfg, UabiTask task, byte[] frame)
    {
        var fps = task.Fpstate;
        if (frame.Length < SigframeSizes.XstateSigframeSize(cfg, fps) + Boot.FpuSystem.FregsStateSize)
        {
            Sigframes.ClearUserStates(cfg, task);
            return new(false, false, true, "access_ok() fails: frame shorter than 112 + user_size + 4");
        }
        var bufFx = frame.AsSpan(Boot.FpuSystem.FregsStateSize);
        var sw = Sigframes.CheckXstateInSigframe(fps, bufFx, out string why);
        if (sw is not { } s)
        {
            Sigframes.ClearUserStates(cfg, task);
            return new(false, false, true, why);
        }
        bool fxOnly = s.Magic1 == 0;
        var env = frame.AsSpan(0, FxsrConversions.EnvSize);
        var staged = task.Clone();
        var regs = staged.Fpstate.Buffer.AsSpan();
        if (!fxOnly)
        {
            uint pkru = staged.Pkru;
            var r = XstateUabi.CopyUabiToXstate(cfg, staged.Fpstate, bufFx, ref pkru, updatePkru: true);
            if (!r.Ok)
            {
                Sigframes.ClearUserStates(cfg, task);
                return new(false, false, true, $"copy_sigframe_from_user_to_xstate: {r}");
            }
            staged.Pkru = pkru;
        }
        else
        {
            uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(bufFx[XsaveOffsets.Mxcsr..]);
            if (XsaveDataRules.MxcsrHasReservedBits(mxcsr, cfg.MxcsrFeatureMask))
            {
                Sigframes.ClearUserStates(cfg, task);
                return new(false, true, true, $"MXCSR 0x{mxcsr:x8} sets reserved bits (FX-only frame)");
            }
            bufFx[..XsaveOffsets.FxsaveSize].CopyTo(regs);
            staged.Fpstate.XstateBv |= XFeatureMasks.FpSse;
        }
        FxsrConversions.ConvertToFxsr(regs, env);
        ulong userXfeatures = s.Xfeatures;
        staged.Fpstate.XstateBv &= userXfeatures | cfg.SupervisorFeatures;
        staged.Fpstate.Buffer.CopyTo(task.Fpstate.Buffer, 0);
        task.Pkru = staged.Pkru;
        return new(true, fxOnly, false, fxOnly ? $"FX-only frame ({why})" : "copy_sigframe_from_user_to_xstate + fsave header fold");
    }
}
