namespace XsaveLab.Arch.Machine;

// XRSTOR and XRSTORS (SDM Vol.1 §13.8, §13.12; Vol.2 instruction pages).
public sealed partial class XsaveCpu
{
    /// <summary>XRSTOR: RFBM = XCR0 &amp; EDX:EAX; standard or compacted form from XCOMP_BV[63]. Components in
    /// RFBM are loaded when XSTATE_BV[i]=1 and initialized otherwise; the rest are untouched. All header and
    /// MXCSR checks happen before any register changes.</summary>
    public XsaveFault Xrstor(ReadOnlySpan<byte> area, ulong address, ulong edxEax) => Restore(area, address, edxEax, false);

    /// <summary>XRSTORS: CPL 0, compacted form only, RFBM = (XCR0 | IA32_XSS) &amp; EDX:EAX.</summary>
    public XsaveFault Xrstors(ReadOnlySpan<byte> area, ulong address, ulong edxEax) => Restore(area, address, edxEax, true);

    private XsaveFault Restore(ReadOnlySpan<byte> area, ulong address, ulong edxEax, bool supervisor)
    {
        var fault = CheckCommon(address, supervisor && !_hasXsaves ? XsaveRules.NoXsaves : null, supervisor);
        if (fault.IsFault)
            return fault;
        if (area.Length < XsaveOffsets.ExtendedStart)
            AreaTooShort(area.Length, XsaveOffsets.ExtendedStart);

        ulong xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(area[XsaveOffsets.XstateBv..]);
        ulong xcompBv = BinaryPrimitives.ReadUInt64LittleEndian(area[XsaveOffsets.XcompBv..]);
        bool compacted = (xcompBv & XFeatureMasks.CompactedFormat) != 0;
        ulong enabled = supervisor ? _xcr0 | _xss : _xcr0;
        ulong rfbm = enabled & edxEax;
        ulong load = rfbm & xstateBv;
        if (XsaveDataRules.XrstorImageViolation(area, _xcr0, enabled, _hasXsavec, supervisor, rfbm, _mxcsrMask) is { } violation)
            return XsaveFault.GP(violation);

        // MXCSR: the standard form loads it whenever RFBM[1] or RFBM[2] is set, whatever XSTATE_BV says; the
        // compacted form treats it as SSE state: loaded with SSE, set to 1F80H when SSE is initialized.
        uint mxcsr = Mxcsr;
        if (XsaveDataRules.XrstorLoadsMxcsr(area, rfbm))
            mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(area[XsaveOffsets.Mxcsr..]);
        else if ((rfbm & XFeatureMasks.Sse) != 0)
            mxcsr = InitMxcsr;

        ulong armed = load & _xfd;
        if (armed != 0)
        {
            _xfdErr |= armed;
            return XsaveFault.NM(XsaveRules.XfdArmed);
        }

        int end = RestoreEnd(area, edxEax, supervisor);
        if (area.Length < end)
            AreaTooShort(area.Length, end);

        ulong cet = load & (XFeatureMasks.CetUser | XFeatureMasks.CetKernel);
        while (cet != 0)
        {
            int i = BitOperations.TrailingZeroCount(cet);
            cet &= cet - 1;
            int at = _layout.CompactedOffset(xcompBv, i);
            if (CetImageViolation(i, area.Slice(at, _layout.Size[i])) is { } rule)
                return XsaveFault.GP(rule, at);
        }

        ulong init = rfbm & ~load;
        while (init != 0)
        {
            int i = BitOperations.TrailingZeroCount(init);
            init &= init - 1;
            if ((_layout.Enumerated >> i & 1) != 0)
                InitComponent(i);
        }
        ulong nonZero = ReadLegacy(area, load) | ReadExtended(area, xcompBv, load, compacted);
        BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(XsaveOffsets.Mxcsr), mxcsr);

        _xinuse = (_xinuse & ~rfbm) | (_xinUseTracking == XinUseTracking.SetOnLoad ? load : nonZero);
        if (_xinUseTracking == XinUseTracking.CompareContents && (rfbm & ZmmLowGroup) != 0 && (~rfbm & ZmmLowGroup & _xinuse) != 0)
            UpdateInUseByContents(~rfbm & ZmmLowGroup & _xinuse);
        _xmodified = ~rfbm;
        _track = new RestoreTracking(true,
            supervisor ? RestoreKind.Xrstors : compacted ? RestoreKind.XrstorCompacted : RestoreKind.XrstorStandard,
            address, Cpl, compacted ? xcompBv : 0, _xcr0, _xss, VmxNonRoot, Smm);
        return XsaveFault.None;
    }

    /// <summary>How many bytes of <paramref name="area"/> (at least its legacy region and header) XRSTOR
    /// (<paramref name="xrstors"/> false) or XRSTORS with <paramref name="edxEax"/> reads: the compacted form up to
    /// the end of the last component of XCOMP_BV, the standard form up to the end of the last component it loads.
    /// An area shorter than this is the caller's error for <see cref="Xrstor"/>; a reader of untrusted images asks
    /// here first.</summary>
    public int RestoreEnd(ReadOnlySpan<byte> area, ulong edxEax, bool xrstors)
    {
        if (area.Length < XsaveOffsets.ExtendedStart)
            AreaTooShort(area.Length, XsaveOffsets.ExtendedStart);
        ulong xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(area[XsaveOffsets.XstateBv..]);
        ulong xcompBv = BinaryPrimitives.ReadUInt64LittleEndian(area[XsaveOffsets.XcompBv..]);
        bool compacted = (xcompBv & XFeatureMasks.CompactedFormat) != 0;
        ulong load = (xrstors ? _xcr0 | _xss : _xcr0) & edxEax & xstateBv;
        return AreaEnd(compacted ? xcompBv : load, compacted);
    }

    /// <summary>XMM, YMM upper halves and ZMM upper halves of registers 0-15: one register file. On this
    /// machine's processor an XRSTOR whose RFBM names any of the three re-derives the in-use bits of all three
    /// from their contents (a zero-content AVX state left "in use" by earlier instructions reads as not in use
    /// after an XRSTOR of SSE or ZMM_Hi256 alone, but stays in use after one of x87, opmask or Hi16_ZMM).</summary>
    private const ulong ZmmLowGroup = XFeatureMasks.Sse | XFeatureMasks.Ymm | XFeatureMasks.ZmmHi256;

    /// <summary>Loads x87 and XMM from the legacy region; returns which of the two are not in their initial
    /// configuration (XMM by contents; MXCSR is accounted for separately, see <see cref="VisibleXinUse"/>).</summary>
    private ulong ReadLegacy(ReadOnlySpan<byte> area, ulong load)
    {
        var regs = _regs.AsSpan();
        ulong nonInit = 0;
        if ((load & XFeatureMasks.Fp) != 0 && LoadX87(ref MemoryMarshal.GetReference(area)))
            nonInit |= XFeatureMasks.Fp;
        if ((load & XFeatureMasks.Sse) != 0 &&
            FastCopy.CopyTestNonZero(area.Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize), regs[XsaveOffsets.XmmSpace..]))
            nonInit |= XFeatureMasks.Sse;
        return nonInit;
    }

    /// <summary>Loads components 2..62 of <paramref name="load"/>; returns those holding non-zero contents.</summary>
    private ulong ReadExtended(ReadOnlySpan<byte> area, ulong xcompBv, ulong load, bool compacted)
    {
        var L = _layout;
        ulong nonZero = 0;
        var walk = L.Walk(xcompBv, load, compacted);
        while (walk.Next(out int i, out int src))
            if (FastCopy.CopyTestNonZero(area.Slice(src, L.Transfer[i]), _regs.AsSpan(L.RegOffset[i])))
                nonZero |= 1UL << i;
        return nonZero;
    }
}
