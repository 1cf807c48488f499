namespace XsaveLab.Kernel.Uabi;

/// <summary>64-bit signal delivery and return for the FPU part of the frame (arch/x86/kernel/fpu/signal.c).</summary>
public static class Sigframes
{
    public const uint FpXstateMagic1 = 0x46505853;
    public const uint FpXstateMagic2 = 0x46505845;

    /// <summary>Features XSAVE writes into the frame: user_xfeatures, and when dynamic features exist only
    /// in-use ones among SIGFRAME_INITOPT (<c>xfeatures_need_sigframe_write()</c>).</summary>
    public static ulong SigframeRfbm(UabiConfig cfg, FpState fps)
    {
        ulong mask = fps.UserXfeatures;
        if ((cfg.UserMaxFeatures & XFeatureMasks.UserDynamic) != 0)
        {
            ulong inUse = fps.XstateBv & fps.Xfeatures;
            mask &= inUse | (XFeatureMasks.UserSupported & ~XFeatureMasks.SigframeInitOpt);
        }
        return mask;
    }

    /// <summary><c>copy_fpstate_to_sigframe()</c> for a 64-bit frame (buf == buf_fx). <paramref name="frame"/>
    /// is the user memory at buf_fx, at least user_size + 4 bytes, holding whatever the stack held before:
    /// XSAVE leaves untouched what it does not write (the 48 padding bytes, components outside RFBM).</summary>
    /// <remarks>
    /// 1. Clear the 64-byte header. 2. XSAVE (standard form) of the registers — which hold the task's fpstate
    /// after fpregs_restore_userregs() — with RFBM from <see cref="SigframeRfbm"/>: components in RFBM written
    /// with their value (init value when not in use), XSTATE_BV[i] = XINUSE[i] for i ∈ RFBM.
    /// 3. update_pkru_in_sigframe() (OSPKE): PKRU bit set, thread PKRU written. 4. save_xstate_epilog():
    /// _fpx_sw_bytes {MAGIC1, user_size+4, user_xfeatures, user_size}, MAGIC2 at user_size, FP|SSE ORed into the
    /// low 32 bits of XSTATE_BV.
    /// </remarks>
    public static void CopyFpstateToSigframe(UabiConfig cfg, UabiTask task, Span<byte> frame)
    {
        var fps = task.Fpstate;
        int userSize = fps.UserSize;
        if (frame.Length < userSize + SigframeSizes.Magic2Size)
            throw new ArgumentException($"frame must hold {userSize + SigframeSizes.Magic2Size} bytes", nameof(frame));
        if (!cfg.UseXsave)
            throw new NotSupportedException("FXSAVE-only frames are not modelled");

        frame.Slice(XsaveOffsets.Header, XsaveOffsets.HeaderSize).Clear();

        ulong rfbm = SigframeRfbm(cfg, fps);
        Span<byte> img = userSize <= 16384 ? stackalloc byte[userSize] : new byte[userSize];
        XstateUabi.CopyXstateToUabiBuf(cfg, fps, rfbm, task.Pkru, XstateCopyMode.Xsave, img);
        ReadOnlySpan<byte> u = img;
        if ((rfbm & XFeatureMasks.Fp) != 0)
        {
            u[..XsaveOffsets.FpEnvSize].CopyTo(frame);
            u.Slice(XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize).CopyTo(frame[XsaveOffsets.StSpace..]);
        }
        if ((rfbm & (XFeatureMasks.Sse | XFeatureMasks.Ymm)) != 0)
            u.Slice(XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize).CopyTo(frame[XsaveOffsets.Mxcsr..]);
        if ((rfbm & XFeatureMasks.Sse) != 0)
            u.Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize).CopyTo(frame[XsaveOffsets.XmmSpace..]);
        foreach (int i in cfg.UncompactOrder)
        {
            if ((rfbm >> i & 1) == 0)
                continue;
            int off = cfg.StandardOffset(i), size = cfg.Size(i);
            if (i == (int)XFeature.Pkru)
                BinaryPrimitives.WriteUInt32LittleEndian(frame[off..], task.Pkru); // XSAVE writes the PKRU register (4 bytes)
            else
                u.Slice(off, size).CopyTo(frame[off..]);
        }
        ulong xinuse = fps.XstateBv & fps.Xfeatures;
        if (task.Pkru != 0)
            xinuse |= XFeatureMasks.Pkru;
        else
            xinuse &= ~XFeatureMasks.Pkru;
        ulong bv = xinuse & rfbm;

        if (cfg.OsPke)
        {
            bv |= XFeatureMasks.Pkru;
            BinaryPrimitives.WriteUInt32LittleEndian(frame[cfg.StandardOffset((int)XFeature.Pkru)..], task.Pkru);
        }

        new FpxSwBytes(FpXstateMagic1, (uint)(userSize + SigframeSizes.Magic2Size), fps.UserXfeatures, (uint)userSize).Write(frame);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[userSize..], FpXstateMagic2);
        uint low = (uint)bv | (uint)XFeatureMasks.FpSse;
        BinaryPrimitives.WriteUInt64LittleEndian(frame[XsaveOffsets.XstateBv..], (bv & 0xFFFFFFFF00000000UL) | low);
    }

    /// <summary><c>check_xstate_in_sigframe()</c>: returns the effective sw bytes; magic1 0 means FX-only.
    /// Null when reading MAGIC2 faults (beyond the frame).</summary>
    public static FpxSwBytes? CheckXstateInSigframe(FpState fps, ReadOnlySpan<byte> frame, out string rule) =>
        CheckXstateInSigframe(fps, frame, out rule, out _);

    /// <summary><see cref="CheckXstateInSigframe(FpState, ReadOnlySpan{byte}, out string)"/> with the frame offset of
    /// the software byte field that decided (null for an extended frame).</summary>
    public static FpxSwBytes? CheckXstateInSigframe(FpState fps, ReadOnlySpan<byte> frame, out string rule, out int? offset)
    {
        var sw = FpxSwBytes.Read(frame);
        const int minXstateSize = XsaveOffsets.FxsaveSize + XsaveOffsets.HeaderSize;
        rule = "";
        offset = FpxSwBytes.XstateSizeOffset;
        if (sw.Magic1 != FpXstateMagic1)
            (rule, offset) = ($"check_xstate_in_sigframe(): magic1 0x{sw.Magic1:x8} != FP_XSTATE_MAGIC1", FpxSwBytes.Magic1Offset);
        else if (sw.XstateSize < minXstateSize)
            rule = $"check_xstate_in_sigframe(): xstate_size {sw.XstateSize} < {minXstateSize}";
        else if (sw.XstateSize > fps.UserSize)
            rule = $"check_xstate_in_sigframe(): xstate_size {sw.XstateSize} > fpstate->user_size {fps.UserSize}";
        else if (sw.XstateSize > sw.ExtendedSize)
            rule = $"check_xstate_in_sigframe(): xstate_size {sw.XstateSize} > extended_size {sw.ExtendedSize}";
        if (rule.Length == 0)
        {
            if (sw.XstateSize + 4 > frame.Length)
            {
                rule = "check_xstate_in_sigframe(): MAGIC2 lies beyond the frame (fault)";
                offset = frame.Length;
                return null;
            }
            uint magic2 = BinaryPrimitives.ReadUInt32LittleEndian(frame[(int)sw.XstateSize..]);
            if (magic2 == FpXstateMagic2)
            {
                rule = "extended frame";
                offset = null;
                return sw;
            }
            (rule, offset) = ($"check_xstate_in_sigframe(): MAGIC2 0x{magic2:x8} missing at {sw.XstateSize}", (int)sw.XstateSize);
        }
        return new FpxSwBytes(0, sw.ExtendedSize, XFeatureMasks.FpSse, XsaveOffsets.FxsaveSize);
    }

    /// <summary><c>fpu__restore_sig(buf, 0)</c> for a 64-bit frame: the registers are loaded from user memory
    /// (XRSTOR with RFBM = frame xfeatures ∩ user_xfeatures, or FXRSTOR for FX-only frames), the remaining user
    /// features from init_fpstate; supervisor state is kept. Any failure ⇒ fpu__clear_user_states() + SIGSEGV.
    /// <paramref name="frame"/> = null models a NULL fpstate pointer (user states reset, success).</summary>
    /// <remarks>The resulting register state is written back into the task's fpstate buffer (as the next XSAVES
    /// would store it) and thread.pkru.</remarks>
    public static SigreturnResult FpuRestoreSig(UabiConfig cfg, UabiTask task, byte[]? frame)
    {
        if (frame is null)
        {
            ClearUserStates(cfg, task);
            return new(true, false, false, "NULL fpstate: fpu__clear_user_states()");
        }
        var fps = task.Fpstate;
        if (frame.Length < SigframeSizes.XstateSigframeSize(cfg, fps))
        {
            ClearUserStates(cfg, task);
            return new(false, false, true, "__fpu_restore_sig(): access_ok() fails: frame shorter than user_size + 4", frame.Length);
        }
        var sw = CheckXstateInSigframe(fps, frame, out string why, out int? whyAt);
        if (sw is not { } s)
        {
            ClearUserStates(cfg, task);
            return new(false, false, true, why, whyAt);
        }
        bool fxOnly = s.Magic1 == 0;
        ulong xrestore = s.Xfeatures & fps.UserXfeatures;
        var staged = task.Clone();
        var fault = fxOnly ? Fxrstor(cfg, staged, frame) : Xrstor(cfg, staged, frame, xrestore);
        if (fault.IsFault)
        {
            ClearUserStates(cfg, task);
            return new(false, fxOnly, true, $"__fpu_restore_sig(): {(fxOnly ? "FXRSTOR" : "XRSTOR")} of the frame: {fault}", fault.Offset);
        }
        // os_xrstor(&init_fpstate, user_xfeatures & ~xrestore): the remaining user features go to init.
        ulong initBv = fps.UserXfeatures & ~(fxOnly ? XFeatureMasks.FpSse : xrestore);
        InitComponents(cfg, staged, initBv);
        staged.Fpstate.Buffer.CopyTo(task.Fpstate.Buffer, 0); // in place: the buffer may be shared with the task model
        task.Pkru = staged.Pkru;
        return new(true, fxOnly, false, fxOnly ? $"FX-only frame ({why})" : "XRSTOR from the frame", fxOnly ? whyAt : null);
    }

    /// <summary><c>fpu__clear_user_states()</c>: user features back to init (init_fpstate, USER_RESTORE), PKRU to
    /// init_pkru_value when OSPKE; supervisor state preserved.</summary>
    public static void ClearUserStates(UabiConfig cfg, UabiTask task)
    {
        InitComponents(cfg, task, task.Fpstate.UserXfeatures & XFeatureMasks.UserRestore);
        if (cfg.OsPke)
            task.Pkru = UabiTask.InitPkruValue;
    }

    private static void InitComponents(UabiConfig cfg, UabiTask task, ulong mask)
    {
        var fps = task.Fpstate;
        var regs = fps.Buffer.AsSpan();
        ReadOnlySpan<byte> init = cfg.InitFpstate;
        if ((mask & XFeatureMasks.Fp) != 0)
        {
            init[..XsaveOffsets.FpEnvSize].CopyTo(regs);
            init.Slice(XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize).CopyTo(regs[XsaveOffsets.StSpace..]);
        }
        if ((mask & XFeatureMasks.Sse) != 0)
        {
            init.Slice(XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize).CopyTo(regs[XsaveOffsets.Mxcsr..]);
            init.Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize).CopyTo(regs[XsaveOffsets.XmmSpace..]);
        }
        ulong xcompBv = fps.XcompBv;
        foreach (int i in cfg.ExtendedInOrder(mask & fps.Xfeatures))
            regs.Slice(cfg.KernelOffset(xcompBv, i), cfg.Size(i)).Clear();
        if ((mask & XFeatureMasks.Pkru) != 0)
            task.Pkru = 0;
        fps.XstateBv &= ~mask;
    }

    /// <summary>FXRSTOR64 from the frame: #GP when MXCSR sets bits outside MXCSR_MASK (SDM Vol.2A FXRSTOR);
    /// loads the x87 state, MXCSR and XMM0–15 (FP and SSE end up in use).</summary>
    private static XsaveFault Fxrstor(UabiConfig cfg, UabiTask task, ReadOnlySpan<byte> frame)
    {
        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(frame[XsaveOffsets.Mxcsr..]);
        if (XsaveDataRules.MxcsrViolationAt(mxcsr, cfg.MxcsrFeatureMask) is { } bad)
            return XsaveFault.GP(bad);
        var regs = task.Fpstate.Buffer.AsSpan();
        frame[..XsaveOffsets.FpEnvSize].CopyTo(regs);
        BinaryPrimitives.WriteUInt32LittleEndian(regs[XsaveOffsets.Mxcsr..], mxcsr);
        frame.Slice(XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize + XsaveOffsets.XmmSpaceSize).CopyTo(regs[XsaveOffsets.StSpace..]);
        task.Fpstate.XstateBv |= XFeatureMasks.FpSse;
        return XsaveFault.None;
    }

    /// <summary>XRSTOR64 by the task itself of a user-memory image with RFBM = <paramref name="rfbm"/> (SDM Vol.1 §13.8).</summary>
    /// <remarks>
    /// The checks are the instruction model's own (<see cref="XsaveDataRules.XrstorImageViolation"/>, which
    /// <see cref="XsaveCpu.Xrstor"/> runs), with XCR0 = fpu_user_cfg.max_features and the hardware's
    /// MXCSR_MASK (= mxcsr_feature_mask): the header rules of the standard and compacted forms, then MXCSR when
    /// loaded. Components are then read at standard or compacted offsets; for i ∈ RFBM: XSTATE_BV[i] ? load : init.
    /// </remarks>
    /// <returns><see cref="XsaveFault.None"/> on success, else the #GP with its rule and byte (the task is then
    /// unchanged: every check precedes the loads).</returns>
    public static XsaveFault Xrstor(UabiConfig cfg, UabiTask task, ReadOnlySpan<byte> frame, ulong rfbm)
    {
        ulong xcr0 = cfg.UserMaxFeatures;
        rfbm &= xcr0;
        if (XsaveDataRules.XrstorImageViolation(frame, xcr0, xcr0, cfg.Cpu.HasXsavec, xrstors: false, rfbm, cfg.MxcsrFeatureMask) is { } violation)
            return XsaveFault.GP(violation);
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(frame[XsaveOffsets.XstateBv..]);
        ulong xcomp = BinaryPrimitives.ReadUInt64LittleEndian(frame[XsaveOffsets.XcompBv..]);
        bool compacted = (xcomp & XFeatureMasks.CompactedFormat) != 0;
        const ulong mxFeatures = XFeatureMasks.Sse | XFeatureMasks.Ymm;
        bool loadMxcsr = XsaveDataRules.XrstorLoadsMxcsr(frame, rfbm);
        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(frame[XsaveOffsets.Mxcsr..]);

        var fps = task.Fpstate;
        var regs = fps.Buffer.AsSpan();
        ReadOnlySpan<byte> init = cfg.InitFpstate;
        ulong load = bv & rfbm;
        if ((rfbm & XFeatureMasks.Fp) != 0)
        {
            var from = (load & XFeatureMasks.Fp) != 0 ? frame : init;
            from[..XsaveOffsets.FpEnvSize].CopyTo(regs);
            from.Slice(XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize).CopyTo(regs[XsaveOffsets.StSpace..]);
        }
        if ((rfbm & mxFeatures) != 0)
            BinaryPrimitives.WriteUInt32LittleEndian(regs[XsaveOffsets.Mxcsr..], loadMxcsr ? mxcsr : 0x1F80);
        if ((rfbm & XFeatureMasks.Sse) != 0)
            ((load & XFeatureMasks.Sse) != 0 ? frame : init).Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize).CopyTo(regs[XsaveOffsets.XmmSpace..]);
        ulong xcompBv = fps.XcompBv;
        foreach (int i in cfg.ExtendedInOrder(rfbm))
        {
            int size = cfg.Size(i);
            var dst = regs.Slice(cfg.KernelOffset(xcompBv, i), size);
            if ((load >> i & 1) != 0)
            {
                int src = compacted ? Arch.Layout.XStateGeometry.Offset(cfg.Cpu, xcomp, i, true) : cfg.StandardOffset(i);
                frame.Slice(src, size).CopyTo(dst);
                if (i == (int)XFeature.Pkru)
                    task.Pkru = BinaryPrimitives.ReadUInt32LittleEndian(dst);
            }
            else
            {
                dst.Clear();
                if (i == (int)XFeature.Pkru)
                    task.Pkru = 0;
            }
        }
        // In-use tracking as the next XSAVES records it: loaded components in use, initialised ones not.
        // FP/SSE stay marked as loaded (the kernel ORs them into every frame it writes).
        fps.XstateBv = (fps.XstateBv & ~rfbm) | load;
        return XsaveFault.None;
    }
}
