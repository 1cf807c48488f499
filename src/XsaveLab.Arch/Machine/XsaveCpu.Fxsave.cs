namespace XsaveLab.Arch.Machine;

// FXSAVE and FXRSTOR (64-bit forms): the legacy region on its own (SDM Vol.2 FXSAVE/FXRSTOR, Vol.1 §10.5).
public sealed partial class XsaveCpu
{
    /// <summary>FXSAVE64: x87 state (bytes 0..23, 32..159), MXCSR and MXCSR_MASK (24..31) and XMM0-15
    /// (160..415), whatever XCR0 and XINUSE say; bytes 416..511 are left alone. #UD without CPUID.1:EDX.FXSR,
    /// #NM with CR0.TS, #GP unless the address is 16-byte aligned.</summary>
    public XsaveFault Fxsave(Span<byte> area, ulong address)
    {
        var f = CheckFx(address, area.Length);
        if (f.IsFault)
            return f;
        _regs.AsSpan(0, XsaveOffsets.XmmSpace + XsaveOffsets.XmmSpaceSize).CopyTo(area);
        return XsaveFault.None;
    }

    /// <summary>FXRSTOR64: loads x87 (by the rules of <see cref="LoadX87"/>), MXCSR (#GP when it has bits
    /// outside <see cref="MxcsrMask"/>, checked before anything changes) and XMM0-15. XINUSE follows the loaded
    /// contents as for XRSTOR; the modified-optimization tracking is not touched (FXRSTOR is not an XRSTOR) but
    /// the loaded components count as modified.</summary>
    public XsaveFault Fxrstor(ReadOnlySpan<byte> area, ulong address)
    {
        var f = CheckFx(address, area.Length);
        if (f.IsFault)
            return f;
        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(area[XsaveOffsets.Mxcsr..]);
        if (XsaveDataRules.MxcsrViolation(mxcsr, _mxcsrMask) is { } mxcsrRule)
            return XsaveFault.GP(mxcsrRule);
        bool x87 = LoadX87(ref MemoryMarshal.GetReference(area));
        bool xmm = FastCopy.CopyTestNonZero(area.Slice(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize),
            _regs.AsSpan(XsaveOffsets.XmmSpace));
        BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(XsaveOffsets.Mxcsr), mxcsr);
        ulong loaded = XFeatureMasks.FpSse;
        ulong nonInit = (x87 ? XFeatureMasks.Fp : 0) | (xmm ? XFeatureMasks.Sse : 0);
        _xinuse = (_xinuse & ~loaded) | (_xinUseTracking == XinUseTracking.SetOnLoad ? loaded : nonInit);
        _xmodified |= loaded;
        return XsaveFault.None;
    }

    /// <summary>The fault FXSAVE or FXRSTOR takes before touching the area; with none, an area shorter than the
    /// 512-byte FXSAVE image is the caller's error and throws.</summary>
    private XsaveFault CheckFx(ulong address, int areaLength)
    {
        if (!_hasFxsr)
            return XsaveFault.UD(XsaveRules.NoFxsr);
        if (Cr0Ts)
            return XsaveFault.NM(XsaveRules.TaskSwitched);
        if ((address & 15) != 0)
            return XsaveFault.GP(XsaveRules.FxMisaligned);
        if (areaLength < XsaveOffsets.FxsaveSize)
            AreaTooShort(areaLength, XsaveOffsets.FxsaveSize);
        return XsaveFault.None;
    }
}
