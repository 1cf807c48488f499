namespace XsaveLab.Arch.Machine;

// XSAVE, XSAVEOPT, XSAVEC, XSAVES (SDM Vol.1 §13.7, §13.9, §13.10, §13.11; Vol.2 instruction pages).
public sealed partial class XsaveCpu
{
    /// <summary>XSAVE: standard form, RFBM = XCR0 &amp; EDX:EAX, every requested component written (no
    /// optimization); XSTATE_BV ← (old &amp; ~RFBM) | (XINUSE &amp; RFBM); XCOMP_BV and bytes 528..575 untouched.</summary>
    public XsaveFault Xsave(Span<byte> area, ulong address, ulong edxEax) => Save(area, address, edxEax, SaveInstruction.Xsave);

    /// <summary>XSAVEOPT: XSAVE with the init optimization (components with XINUSE[i]=0 are not written) and the
    /// modified optimization (components not modified since an XRSTOR of the same address are not written).
    /// MXCSR is written whenever RFBM[1] or RFBM[2] is set.</summary>
    public XsaveFault Xsaveopt(Span<byte> area, ulong address, ulong edxEax) => Save(area, address, edxEax, SaveInstruction.Xsaveopt);

    /// <summary>XSAVEC: compacted form with the init optimization. XSTATE_BV ← RFBM &amp; XINUSE (plus SSE when
    /// MXCSR ≠ 1F80H), XCOMP_BV ← RFBM | bit 63; MXCSR/MXCSR_MASK written only with the SSE component (Bochs
    /// <c>xsave_sse_state</c>; this machine leaves bytes 24..31 untouched when SSE is in its initial
    /// configuration, even with AVX in use).</summary>
    public XsaveFault Xsavec(Span<byte> area, ulong address, ulong edxEax) => Save(area, address, edxEax, SaveInstruction.Xsavec);

    /// <summary>XSAVES: XSAVEC with RFBM = (XCR0 | IA32_XSS) &amp; EDX:EAX, CPL 0 only, and the modified
    /// optimization after an XRSTORS of the same address and XCOMP_BV.</summary>
    /// <remarks>As on hardware, <paramref name="address"/> identifies the buffer: give each buffer its own
    /// address (a kernel's per-task fpstate), or the optimization will skip components into a different
    /// buffer that merely claims the address of the last XRSTORS.</remarks>
    public XsaveFault Xsaves(Span<byte> area, ulong address, ulong edxEax) => Save(area, address, edxEax, SaveInstruction.Xsaves);

    /// <summary>The save instruction <paramref name="instruction"/>: XSAVE, XSAVEOPT, XSAVEC or XSAVES with
    /// EDX:EAX = <paramref name="edxEax"/>, or FXSAVE (which ignores it). FNSAVE is not modelled: asking for it
    /// is API misuse.</summary>
    public XsaveFault Save(SaveInstruction instruction, Span<byte> area, ulong address, ulong edxEax) => instruction switch
    {
        SaveInstruction.Xsave or SaveInstruction.Xsaveopt or SaveInstruction.Xsavec or SaveInstruction.Xsaves => Save(area, address, edxEax, instruction),
        SaveInstruction.Fxsave => Fxsave(area, address),
        _ => throw new ArgumentOutOfRangeException(nameof(instruction), instruction, "the model has no FNSAVE"),
    };

    private XsaveFault Save(Span<byte> area, ulong address, ulong edxEax, SaveInstruction kind)
    {
        var fault = CheckCommon(address, kind switch
        {
            SaveInstruction.Xsaveopt => _hasXsaveopt ? null : XsaveRules.NoXsaveopt,
            SaveInstruction.Xsavec => _hasXsavec ? null : XsaveRules.NoXsavec,
            SaveInstruction.Xsaves => _hasXsaves ? null : XsaveRules.NoXsaves,
            _ => null,
        }, kind == SaveInstruction.Xsaves);
        if (fault.IsFault)
            return fault;

        bool compacted = kind is SaveInstruction.Xsavec or SaveInstruction.Xsaves;
        ulong rfbm = (kind == SaveInstruction.Xsaves ? _xcr0 | _xss : _xcr0) & edxEax;
        // XFD-armed components count as XINUSE[i]=0 for every save (SDM Vol.1 §13.14).
        ulong inUse = _xinuse & ~_xfd & rfbm;
        if (compacted && (rfbm & XFeatureMasks.Sse) != 0 && Mxcsr != InitMxcsr)
            inUse |= XFeatureMasks.Sse; // XSAVEC/XSAVES pseudo-code: "IF MXCSR ≠ 1F80H AND RFBM[1] THEN TO_BE_SAVED[1] ← 1"

        ulong write = kind switch
        {
            SaveInstruction.Xsave => rfbm,
            SaveInstruction.Xsavec => inUse,
            _ => inUse & (ModifiedOptimizationApplies(address, rfbm, kind) ? _xmodified : ~0UL),
        };

        int end = AreaEnd(compacted ? rfbm : write, compacted);
        if (area.Length < end)
            AreaTooShort(area.Length, end);

        // Standard forms write MXCSR with SSE or AVX requested; compacted forms treat it as SSE state.
        bool mxcsr = compacted ? (write & XFeatureMasks.Sse) != 0
                               : (rfbm & (XFeatureMasks.Sse | XFeatureMasks.Ymm)) != 0;
        WriteLegacy(area, write, mxcsr);
        WriteExtended(area, rfbm, write, compacted, kind == SaveInstruction.Xsave ? rfbm & _xfd : 0);

        var xstateBv = area[XsaveOffsets.XstateBv..];
        if (compacted)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(xstateBv, inUse);
            BinaryPrimitives.WriteUInt64LittleEndian(area[XsaveOffsets.XcompBv..], rfbm | XFeatureMasks.CompactedFormat);
        }
        else
            BinaryPrimitives.WriteUInt64LittleEndian(xstateBv, (BinaryPrimitives.ReadUInt64LittleEndian(xstateBv) & ~rfbm) | inUse);
        return XsaveFault.None;
    }

    /// <summary>API misuse: the span is shorter than what the instruction touches (on hardware the access
    /// would run past the buffer). Kept out of line so the instruction bodies stay small.</summary>
    [DoesNotReturn]
    private static void AreaTooShort(int length, int needed) =>
        throw new ArgumentException($"XSAVE area of {length} bytes; the instruction touches {needed}", "area");

    private XsaveFault CheckCommon(ulong address, string? missingFeature, bool needsCpl0)
    {
        if (!_hasXsave)
            return XsaveFault.UD(XsaveRules.NoXsave);
        if (!OsXsave)
            return XsaveFault.UD(XsaveRules.OsXsaveClear);
        if (missingFeature is not null)
            return XsaveFault.UD(missingFeature);
        if (Cr0Ts)
            return XsaveFault.NM(XsaveRules.TaskSwitched);
        if (needsCpl0 && Cpl != 0)
            return XsaveFault.GP(XsaveRules.CplNotZero);
        if ((address & (XsaveOffsets.Alignment - 1)) != 0)
            return XsaveFault.GP(XsaveRules.Misaligned);
        return XsaveFault.None;
    }

    /// <summary>SDM Vol.1 §13.6: the modified optimization may be used only when XRSTOR_INFO matches — the last
    /// XRSTOR/XRSTORS used the same linear address at the same CPL, in the same VMX and SMM mode, in the standard form for XSAVEOPT, in the
    /// compacted form with XCOMP_BV = RFBM | bit 63 for XSAVES — and XCR0/IA32_XSS have not been written since.</summary>
    private bool ModifiedOptimizationApplies(ulong address, ulong rfbm, SaveInstruction kind)
    {
        if (!Options.ModifiedOptimization || !_track.Valid || _track.Address != address || _track.Cpl != Cpl
            || _track.Xcr0 != _xcr0 || _track.Xss != _xss || _track.VmxNonRoot != VmxNonRoot || _track.Smm != Smm)
            return false;
        return kind == SaveInstruction.Xsaveopt
            ? _track.Kind == RestoreKind.XrstorStandard
            : _track.Kind != RestoreKind.XrstorStandard && _track.CompMask == (rfbm | XFeatureMasks.CompactedFormat);
    }

    /// <remarks>The register file already holds what the x87 unit keeps (see <see cref="SanitizeX87"/>, which
    /// also applies the AMD error-pointer rule), so the legacy region is copied as is, in one piece when x87,
    /// MXCSR and XMM all go out.</remarks>
    private void WriteLegacy(Span<byte> area, ulong write, bool mxcsr)
    {
        var regs = _regs.AsSpan();
        bool x87 = (write & XFeatureMasks.Fp) != 0, xmm = (write & XFeatureMasks.Sse) != 0;
        if (x87 && xmm && mxcsr)
        {
            regs[..(XsaveOffsets.XmmSpace + XsaveOffsets.XmmSpaceSize)].CopyTo(area);
            return;
        }
        if (x87)
        {
            regs[..XsaveOffsets.Mxcsr].CopyTo(area);
            regs[XsaveOffsets.StSpace..XsaveOffsets.X87Size].CopyTo(area[XsaveOffsets.StSpace..]);
        }
        if (mxcsr)
            regs.Slice(XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize).CopyTo(area[XsaveOffsets.Mxcsr..]);
        if (xmm)
            regs.Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize).CopyTo(area[XsaveOffsets.XmmSpace..]);
    }

    /// <summary>Copies components 2..62 of <paramref name="write"/>, merging neighbours that are contiguous in
    /// both the register file and the area into one copy. In compacted form every RFBM component reserves its
    /// slot whether written or not (the layout follows XCOMP_BV = RFBM).</summary>
    private void WriteExtended(Span<byte> area, ulong rfbm, ulong write, bool compacted, ulong zeroInstead)
    {
        var L = _layout;
        int runSrc = 0, runDst = 0, runLen = 0;
        var walk = L.Walk(rfbm, write, compacted);
        while (walk.Next(out int i, out int dst))
        {
            int src = L.RegOffset[i], len = L.Transfer[i];
            if ((zeroInstead >> i & 1) != 0)
            {
                area.Slice(dst, len).Clear(); // plain XSAVE of an XFD-armed component: its initial configuration
                continue;
            }
            if (runLen > 0 && src == runSrc + runLen && dst == runDst + runLen)
                runLen += len;
            else
            {
                if (runLen > 0)
                    _regs.AsSpan(runSrc, runLen).CopyTo(area[runDst..]);
                runSrc = src;
                runDst = dst;
                runLen = len;
            }
            if (len != L.Size[i])
            {
                _regs.AsSpan(runSrc, runLen).CopyTo(area[runDst..]);
                runLen = 0;
            }
        }
        if (runLen > 0)
            _regs.AsSpan(runSrc, runLen).CopyTo(area[runDst..]);
    }
}
