namespace XsaveLab.Kernel.Uabi;

/// <summary>Conversions between the kernel's (compacted) fpstate buffer and the standard-format UABI image,
/// exactly as arch/x86/kernel/fpu/xstate.c does them (Linux 6.16+ semantics).</summary>
public static class XstateUabi
{
    /// <summary><c>__copy_xstate_to_uabi_buf(to, fpstate, xfeatures, pkru_val, copy_mode)</c>.</summary>
    /// <remarks>
    /// Header XSTATE_BV = buffer XSTATE_BV masked by mode (FP; FP|SSE; user_xfeatures &amp; xfeatures). Legacy area
    /// from the buffer when the header bit is set, else from init_fpstate: x87 environment (24 B) per FP,
    /// MXCSR+MASK per SSE|YMM, st_space per FP, xmm_space per SSE. FP/FX modes stop there. XSAVE mode adds zero
    /// padding, xstate_fx_sw_bytes at 464 (XCR0), the header (xcomp_bv 0, reserved 0), then every extended
    /// feature present in the header in standard-offset order (b15888840207: absent ones are zero, the
    /// all-zero init state; ed91ad084ef9: in-order walk for APX), PKRU from <paramref name="pkru"/>; gaps and
    /// the tail are zero-filled. A short <paramref name="to"/> receives a prefix (membuf).
    /// </remarks>
    public static void CopyXstateToUabiBuf(UabiConfig cfg, FpState fps, ulong xfeatures, uint pkru,
        XstateCopyMode mode, Span<byte> to)
    {
        ReadOnlySpan<byte> xsave = fps.Buffer;
        ReadOnlySpan<byte> xinit = cfg.InitFpstate;
        ulong header = fps.XstateBv;
        header &= mode switch
        {
            XstateCopyMode.Fp => XFeatureMasks.Fp,
            XstateCopyMode.Fx => XFeatureMasks.FpSse,
            _ => fps.UserXfeatures & xfeatures,
        };

        var mb = new Membuf(to);
        bool fp = (header & XFeatureMasks.Fp) != 0;
        bool sse = (header & XFeatureMasks.Sse) != 0;
        bool mx = (header & (XFeatureMasks.Sse | XFeatureMasks.Ymm)) != 0;
        mb.Write((fp ? xsave : xinit).Slice(0, XsaveOffsets.FpEnvSize));
        mb.Write((mx ? xsave : xinit).Slice(XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize));
        mb.Write((fp ? xsave : xinit).Slice(XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize));
        mb.Write((sse ? xsave : xinit).Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize));

        if (mode == XstateCopyMode.Xsave)
        {
            mb.Zero(XsaveOffsets.PaddingSize);
            Span<byte> sw = stackalloc byte[XsaveOffsets.SwReservedSize];
            cfg.WriteXstateFxSwBytes(sw);
            mb.Write(sw);
            Span<byte> hdr = stackalloc byte[XsaveOffsets.HeaderSize];
            hdr.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(hdr, header);
            mb.Write(hdr);

            int zerofrom = XsaveOffsets.ExtendedStart;
            ulong xcompBv = fps.XcompBv;
            Span<byte> pkruState = stackalloc byte[8];
            foreach (int i in cfg.UncompactOrder)
            {
                if ((header >> i & 1) == 0)
                    continue;
                int off = cfg.StandardOffset(i), size = cfg.Size(i);
                if (zerofrom < off)
                    mb.Zero(off - zerofrom);
                if (i == (int)XFeature.Pkru)
                {
                    pkruState.Clear();
                    BinaryPrimitives.WriteUInt32LittleEndian(pkruState, pkru);
                    mb.Write(pkruState);
                }
                else
                {
                    mb.Write(xsave.Slice(cfg.KernelOffset(xcompBv, i), size));
                }
                zerofrom = off + size;
            }
        }
        if (mb.Left > 0)
            mb.Zero(mb.Left);
    }

    /// <summary><c>copy_xstate_to_uabi_buf(to, tsk, mode)</c>: the task's fpstate, its user_xfeatures and
    /// thread.pkru.</summary>
    public static void CopyXstateToUabiBuf(UabiConfig cfg, UabiTask task, XstateCopyMode mode, Span<byte> to) =>
        CopyXstateToUabiBuf(cfg, task.Fpstate, task.Fpstate.UserXfeatures, task.Pkru, mode, to);

    /// <summary><c>validate_user_xstate_header(hdr, fpstate)</c>.</summary>
    public static SysResult ValidateUserXstateHeader(ReadOnlySpan<byte> header, ulong userXfeatures)
    {
        ulong xfeatures = BinaryPrimitives.ReadUInt64LittleEndian(header);
        ulong xcompBv = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        if ((xfeatures & ~userXfeatures) != 0)
            return SysResult.Fail(Errno.EINVAL, $"validate_user_xstate_header(): XSTATE_BV 0x{xfeatures:x} has bits outside user_xfeatures 0x{userXfeatures:x} (unknown or supervisor)",
                XsaveDataRules.ByteOfLowestBit(xfeatures & ~userXfeatures, XsaveOffsets.XstateBv));
        if (xcompBv != 0)
            return SysResult.Fail(Errno.EINVAL, $"validate_user_xstate_header(): XCOMP_BV 0x{xcompBv:x} != 0: user space must use the standard format",
                XsaveDataRules.ByteOfLowestBit(xcompBv, XsaveOffsets.XcompBv));
        if (header.Slice(16, XsaveOffsets.HeaderReservedSize).IndexOfAnyExcept((byte)0) is int r and >= 0)
            return SysResult.Fail(Errno.EINVAL, $"validate_user_xstate_header(): reserved header byte {XsaveOffsets.HeaderReserved + r} is not zero", XsaveOffsets.HeaderReserved + r);
        return SysResult.Success();
    }

    /// <summary><c>copy_uabi_to_xstate(fpstate, kbuf, ubuf, pkru)</c>: validates the header and MXCSR, then copies
    /// every component present in the header from its standard offset to its kernel-buffer location.</summary>
    /// <remarks>
    /// Order and errors as in the kernel: short source ⇒ -EFAULT; header rules ⇒ -EINVAL; if FP|SSE|YMM present,
    /// MXCSR bits outside mxcsr_feature_mask ⇒ -EINVAL (and without FP, MXCSR+MASK are stored directly). Nothing is
    /// written before validation passes. PKRU: present ⇒ *pkru = image value; absent ⇒ *pkru = 0 when a pkru
    /// pointer is given (emulates XRSTOR's init; KVM passes none). XSTATE_BV = (old &amp; SUPERVISOR_ALL) | header:
    /// supervisor state survives.
    /// </remarks>
    public static SysResult CopyUabiToXstate(UabiConfig cfg, FpState fps, ReadOnlySpan<byte> src, ref uint pkru, bool updatePkru)
    {
        if (src.Length < XsaveOffsets.Header + XsaveOffsets.HeaderSize)
            return SysResult.Fail(Errno.EFAULT, "copy_uabi_to_xstate(): source shorter than the XSAVE header", src.Length);
        var hdr = src.Slice(XsaveOffsets.Header, XsaveOffsets.HeaderSize);
        var v = ValidateUserXstateHeader(hdr, fps.UserXfeatures);
        if (!v.Ok)
            return v;
        ulong xfeatures = BinaryPrimitives.ReadUInt64LittleEndian(hdr);

        const ulong mxMask = XFeatureMasks.Fp | XFeatureMasks.Sse | XFeatureMasks.Ymm;
        if ((xfeatures & mxMask) != 0)
        {
            uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(src[XsaveOffsets.Mxcsr..]);
            if (XsaveDataRules.MxcsrViolationAt(mxcsr, cfg.MxcsrFeatureMask) is { } bad)
                return SysResult.Fail(Errno.EINVAL, $"copy_uabi_to_xstate(): MXCSR 0x{mxcsr:x8} sets reserved bits (mxcsr_feature_mask 0x{cfg.MxcsrFeatureMask:x8})", bad.Offset);
        }
        // Every component must be readable before anything is written (copy_from_buffer faults ⇒ -EFAULT).
        for (int i = 0; i < XFeatureTable.Count; i++)
            if ((xfeatures >> i & 1) != 0 && cfg.StandardOffset(i) + cfg.Size(i) > src.Length)
                return SysResult.Fail(Errno.EFAULT, $"copy_uabi_to_xstate(): component {i} lies beyond the source buffer", src.Length);

        var regs = fps.Buffer.AsSpan();
        if ((xfeatures & mxMask) != 0 && (xfeatures & XFeatureMasks.Fp) == 0)
            src.Slice(XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize).CopyTo(regs[XsaveOffsets.Mxcsr..]);

        ulong xcompBv = fps.XcompBv;
        for (int i = 0; i < XFeatureTable.Count; i++)
        {
            if ((xfeatures >> i & 1) == 0)
                continue;
            int size = cfg.Size(i);
            src.Slice(cfg.StandardOffset(i), size).CopyTo(regs.Slice(cfg.KernelOffset(xcompBv, i), size));
        }

        if ((xfeatures & XFeatureMasks.Pkru) != 0)
            pkru = BinaryPrimitives.ReadUInt32LittleEndian(regs[cfg.KernelOffset(xcompBv, (int)XFeature.Pkru)..]);
        else if (updatePkru)
            pkru = 0;

        fps.XstateBv = (fps.XstateBv & UabiConfig.SupervisorAll) | xfeatures;
        return SysResult.Success();
    }
}
