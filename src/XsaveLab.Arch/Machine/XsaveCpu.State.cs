namespace XsaveLab.Arch.Machine;

// The register file and the operations on registers that are not XSAVE-family instructions.
public sealed partial class XsaveCpu
{
    private RegisterLayout _layout = null!;
    private byte[] _regs = null!;
    private uint _mxcsrMask;
    private bool _fxsaveLeak;
    private bool _la57;
    private int _x87PointerBits;
    private bool _hasXsave, _hasXsaveopt, _hasXsavec, _hasXgetbv1, _hasXsaves, _hasXfd, _hasFxsr, _hasShstk, _hasIbt;
    private XinUseTracking _xinUseTracking;
    private ulong _supportedXcr0, _supportedXss;

    /// <summary>MXCSR_MASK as XSAVE writes it at bytes 28..31 and as XRSTOR checks MXCSR against it.</summary>
    /// <remarks>Every processor since the Pentium 4 with DAZ reports 0xFFFF (SDM Vol.1 §11.6.6). AMD parts with
    /// misaligned-SSE mode (CPUID 0x80000001:ECX[7] MisAlignSse) add MXCSR[17] MM; this machine's processor
    /// writes 0x0002FFFF (docs/host-interfaces.md item 6). Pre-DAZ parts (0xFFBF) have no XSAVE.</remarks>
    public uint MxcsrMask => _mxcsrMask;

    /// <summary>AMD processors keep FIP/FDP/FOP only while FSW.ES=1 and store zeros otherwise (AMD APM
    /// FXSAVE/FXRSTOR; Linux X86_BUG_FXSAVE_LEAK, arch/x86/kernel/cpu/amd.c).</summary>
    /// <remarks>Linux assumes CPUID 0x80000008:EBX[2] XSaveErPtr lifts the rule, but this machine's Zen 5
    /// processor (a PVM guest reporting XSaveErPtr=1) was seen to apply it: restoring an image with FSW.ES=0
    /// and non-zero pointers, then XSAVE, stores zeros. The model follows the observation for every AMD part.</remarks>
    public bool SavesX87PointersOnlyOnError => _fxsaveLeak;

    /// <summary>Width of the FIP/FDP registers: stored values are sign-extended from this bit count.</summary>
    /// <remarks>57 on AMD parts with 5-level paging (CPUID.7.0:ECX[16] LA57) and on AMD family 1Ah (this Zen 5
    /// machine sign-extends from bit 56 although its guest CPUID hides LA57). 64 everywhere else, Intel LA57
    /// parts included: the SDM gives FIP and FDP as 64-bit fields in 64-bit mode (Vol.1 §13.5.1 and the
    /// FXSAVE/XSAVE 64-bit layout, REX.W form) and says nothing of a narrower width, so the model keeps them as
    /// loaded where there is no observation (docs/instruction-model.md).</remarks>
    public int X87PointerBits => _x87PointerBits;

    /// <summary>How XRSTOR, FXRSTOR and register loads update XINUSE on this profile: the
    /// <see cref="XsaveCpuOptions.XinUse"/> override, else <see cref="XinUseTracking.CompareContents"/> on AMD
    /// and Hygon parts (what this machine's Zen 5 processor was seen to do) and the SDM's
    /// <see cref="XinUseTracking.SetOnLoad"/> on every other vendor (docs/instruction-model.md).</summary>
    public XinUseTracking XinUseTracking => _xinUseTracking;

    partial void InitState()
    {
        var p = Profile;
        // Sizes past the bounds would overflow the register file's offsets; readers refuse such dumps first.
        if (CpuProfileValidation.FirstProblem(p) is { } problem)
            throw new ArgumentException($"{p.Name} cannot be modelled: {problem.Message}", "profile");
        _layout = new RegisterLayout(p);
        (_hasXsave, _hasXsaveopt, _hasXsavec, _hasXgetbv1, _hasXsaves, _hasXfd) =
            (p.HasXsave, p.HasXsaveopt, p.HasXsavec, p.HasXgetbv1, p.HasXsaves, p.HasXfd);
        (_supportedXcr0, _supportedXss) = (p.SupportedXcr0, p.SupportedXss);
        _hasFxsr = p.Has(CpuFeature.Fxsr);
        (_hasShstk, _hasIbt) = (p.Has(CpuFeature.Shstk), p.Has(CpuFeature.Ibt));
        _regs = new byte[_layout.RegisterFileSize];
        bool amd = p.Vendor is CpuVendor.Amd or CpuVendor.Hygon;
        bool misalignSse = p.Leaf(0x80000000).Eax >= 0x80000001 && (p.Leaf(0x80000001).Ecx >> 7 & 1) != 0;
        _mxcsrMask = 0xFFFF | (amd && misalignSse ? 0x20000u : 0);
        _fxsaveLeak = amd;
        _la57 = LinearAddressBitsOf(p) == 57;
        _x87PointerBits = amd && (_la57 || p.Family >= 0x1A) ? 57 : 64;
        _xinUseTracking = Options.XinUse ?? (amd ? XinUseTracking.CompareContents : XinUseTracking.SetOnLoad);
        Reset();
    }

    /// <summary>RESET/INIT: XCR0=1, IA32_XSS=IA32_XFD=IA32_XFD_ERR=0, every component in its initial
    /// configuration, XINUSE=0, no restore tracking (SDM Vol.3A §10.1, table 10-1).</summary>
    public void Reset()
    {
        Array.Clear(_regs);
        BinaryPrimitives.WriteUInt16LittleEndian(_regs, InitFcw);
        BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(XsaveOffsets.Mxcsr), InitMxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(XsaveOffsets.MxcsrMask), _mxcsrMask);
        _xcr0 = 1;
        _xss = _xfd = _xfdErr = _xinuse = 0;
        _xmodified = ~0UL;
        _track = default;
        _sCet = _intSspTab = 0;
    }

    public const ushort InitFcw = 0x037F;
    public const uint InitMxcsr = 0x1F80;

    /// <summary>Components this CPU has registers for (x87, SSE and every component CPUID enumerates in XCR0|XSS).</summary>
    public ulong Enumerated => _layout.Enumerated;

    /// <summary>The register contents of component <paramref name="component"/> in its standard-format image
    /// (x87: bytes 0..159 of the legacy region, where bytes 24..31 show MXCSR and MXCSR_MASK as XSAVE writes
    /// them; SSE: XMM0-15; others: the component).</summary>
    public ReadOnlySpan<byte> Read(int component) => _regs.AsSpan(RegOffset(component), _layout.Size[component]);

    /// <summary>What an instruction that writes component <paramref name="component"/> does: #NM (and
    /// IA32_XFD_ERR updated) when XFD arms it, #UD when XCR0 does not enable a user component, else the
    /// registers take <paramref name="data"/> and XINUSE/XMODIFIED are set — XINUSE even when the data are the
    /// initial values (this machine's processor reports AVX in use with all-zero upper halves after the
    /// runtime's own vector code; XRSTOR, in contrast, looks at what it loads).</summary>
    /// <remarks>For x87, bytes 24..31 of <paramref name="data"/> are ignored (MXCSR is set through <see cref="Mxcsr"/>)
    /// and the rest is kept the way an XRSTOR would load it (see <see cref="LoadX87"/>: reserved FCW/FOP bits,
    /// recomputed FSW.ES/B, pointer width, the AMD error-pointer rule).</remarks>
    public XsaveFault Write(int component, ReadOnlySpan<byte> data)
    {
        int off = RegOffset(component);
        int size = _layout.Size[component];
        if (data.Length != size)
            throw new ArgumentException($"component {component} has {size} bytes, got {data.Length}", nameof(data));
        ulong bit = 1UL << component;
        if (component > 1 && (bit & (_xcr0 | _supportedXss)) == 0)
            return XsaveFault.UD(XsaveRules.ComponentDisabled);
        if ((_xfd & bit) != 0)
        {
            _xfdErr |= bit;
            return XsaveFault.NM(XsaveRules.XfdArmed);
        }
        if (component == 0)
        {
            data[..XsaveOffsets.Mxcsr].CopyTo(_regs);
            data[XsaveOffsets.StSpace..].CopyTo(_regs.AsSpan(XsaveOffsets.StSpace));
            SanitizeX87();
        }
        else
            data.CopyTo(_regs.AsSpan(off, size));
        // An instruction that writes a component marks it in use whatever it writes (zeroing idioms included);
        // only XRSTOR and the explicit initializations (Init: VZEROUPPER, TILERELEASE, …) clear XINUSE.
        _xinuse |= bit;
        _xmodified |= bit;
        return XsaveFault.None;
    }

    /// <summary>Puts a component in its initial configuration and clears its XINUSE bit (e.g. TILERELEASE, VZEROUPPER).</summary>
    /// <remarks>SSE's initial configuration includes MXCSR=1F80H (SDM Vol.1 §13.6).</remarks>
    public void Init(int component)
    {
        _ = RegOffset(component);
        InitComponent(component);
        ulong bit = 1UL << component;
        _xinuse &= ~bit;
        _xmodified |= bit;
    }

    /// <summary>MXCSR (shared by SSE and AVX). Setting reserved bits (outside <see cref="MxcsrMask"/>) is what
    /// LDMXCSR refuses with #GP; here it is API misuse.</summary>
    public uint Mxcsr
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_regs.AsSpan(XsaveOffsets.Mxcsr));
        set
        {
            if (XsaveDataRules.MxcsrHasReservedBits(value, _mxcsrMask))
                throw new ArgumentOutOfRangeException(nameof(value), $"MXCSR 0x{value:x} has bits outside MXCSR_MASK 0x{_mxcsrMask:x}");
            BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(XsaveOffsets.Mxcsr), value);
            _xmodified |= XFeatureMasks.Sse;
        }
    }

    /// <summary>Is component <paramref name="component"/>'s register content its initial configuration?</summary>
    public bool IsInitialConfiguration(int component)
    {
        var r = Read(component);
        return component switch
        {
            0 => BinaryPrimitives.ReadUInt16LittleEndian(r) == InitFcw && r[2..XsaveOffsets.Mxcsr].IndexOfAnyExcept((byte)0) < 0
                 && r[XsaveOffsets.StSpace..].IndexOfAnyExcept((byte)0) < 0,
            1 => r.IndexOfAnyExcept((byte)0) < 0 && Mxcsr == InitMxcsr,
            _ => r.IndexOfAnyExcept((byte)0) < 0,
        };
    }

    private int RegOffset(int component)
    {
        if ((uint)component >= 64 || (_layout.Enumerated >> component & 1) == 0)
            throw new ArgumentOutOfRangeException(nameof(component), component, $"{Profile.Name} enumerates no component {component}");
        return _layout.RegOffset[component];
    }

    private void InitComponent(int i)
    {
        switch (i)
        {
            case 0:
                _regs.AsSpan(0, XsaveOffsets.Mxcsr).Clear();
                _regs.AsSpan(XsaveOffsets.StSpace, XsaveOffsets.X87Size - XsaveOffsets.StSpace).Clear();
                BinaryPrimitives.WriteUInt16LittleEndian(_regs, InitFcw);
                break;
            case 1:
                _regs.AsSpan(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize).Clear();
                BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(XsaveOffsets.Mxcsr), InitMxcsr);
                break;
            default:
                _regs.AsSpan(_layout.RegOffset[i], _layout.Size[i]).Clear();
                break;
        }
    }

    /// <summary>What the x87 unit keeps of a loaded image (SDM Vol.1 §8.1, FXRSTOR/XRSTOR; Bochs
    /// <c>xrstor_x87_state</c>), as this machine's processor was seen to do: FCW reserved bits 7 and 15:13
    /// cleared and bit 6 set; FSW.ES and FSW.B recomputed from the unmasked exceptions (FSW[5:0] &amp; ~FCW[5:0]);
    /// byte 5, FOP[15:11] and bytes 10..15 of every ST slot dropped; FIP/FDP sign-extended from the
    /// implemented linear-address width; on AMD the three error pointers cleared while FSW.ES=0.</summary>
    private void SanitizeX87() => LoadX87(ref MemoryMarshal.GetArrayDataReference(_regs));

    /// <summary>Loads the x87 part of a legacy region at <paramref name="src"/> (which may be the register file
    /// itself) by the rules above; true when the result is not x87's initial configuration.</summary>
    private bool LoadX87(ref byte src)
    {
        ref byte dst = ref MemoryMarshal.GetArrayDataReference(_regs);
        ushort fcw = (ushort)((Unsafe.ReadUnaligned<ushort>(ref src) & 0x1F3F) | 0x0040);
        uint fsw = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref src, XsaveOffsets.Fsw));
        bool es = (fsw & ~(uint)fcw & 0x3F) != 0;
        fsw = es ? fsw | 0x8080 : fsw & ~0x8080u;
        ulong ftw = Unsafe.Add(ref src, XsaveOffsets.Ftw);
        ulong fop = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref src, XsaveOffsets.Fop)) & 0x7FFu;
        long fip = Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref src, XsaveOffsets.Fip));
        long fdp = Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref src, XsaveOffsets.Fdp));
        if (_fxsaveLeak && !es)
            (fop, fip, fdp) = (0, 0, 0);
        else if (_x87PointerBits < 64)
        {
            int shift = 64 - _x87PointerBits;
            fip = fip << shift >> shift;
            fdp = fdp << shift >> shift;
        }
        ulong st = 0;
        for (int i = 0; i < XsaveOffsets.StCount; i++)
        {
            ulong mantissa = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, XsaveOffsets.St(i)));
            ulong exponent = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref src, XsaveOffsets.St(i) + 8));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, XsaveOffsets.St(i)), mantissa);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, XsaveOffsets.St(i) + 8), exponent); // bytes 10..15 of the slot: zero
            st |= mantissa | exponent;
        }
        Unsafe.WriteUnaligned(ref dst, fcw | (ulong)fsw << 16 | ftw << 32 | fop << 48);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, XsaveOffsets.Fip), fip);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, XsaveOffsets.Fdp), fdp);
        return fcw != InitFcw || fsw != 0 || ftw != 0 || fop != 0 || fip != 0 || fdp != 0 || st != 0;
    }

    private ulong _endMask0 = ulong.MaxValue, _endMask1 = ulong.MaxValue;
    private int _end0, _end1;

    /// <summary><see cref="RegisterLayout.AreaEnd"/> with the last answer per form remembered (a save/restore
    /// pair asks for the same mask over and over).</summary>
    private int AreaEnd(ulong mask, bool compacted)
    {
        if (compacted)
        {
            if (mask != _endMask1)
                (_endMask1, _end1) = (mask, _layout.AreaEnd(mask, true));
            return _end1;
        }
        if (mask != _endMask0)
            (_endMask0, _end0) = (mask, _layout.AreaEnd(mask, false));
        return _end0;
    }

    private void MarkLoaded(ulong bits)
    {
        _xmodified |= bits;
        if (_xinUseTracking == XinUseTracking.SetOnLoad)
            _xinuse |= bits;
        else
            UpdateInUseByContents(bits);
    }

    /// <summary>XINUSE as XGETBV(1) reports it: the tracked bits, plus SSE whenever MXCSR ≠ 1F80H.</summary>
    /// <remarks>The processor keeps two facts for SSE: whether XMM0-15 are in use (what XSAVE/XSAVEOPT put in
    /// XSTATE_BV[1] — standard-form XRSTOR restores MXCSR regardless) and whether MXCSR differs from 1F80H
    /// (which XGETBV(1) and XSAVEC/XSAVES fold into bit 1, SDM XSAVEC pseudo-code "IF MXCSR ≠ 1F80H AND
    /// RFBM[1]"). This machine shows both: after XRSTOR of XMM zeros with MXCSR 0xD55D, XGETBV(1)[1]=1 while
    /// XSAVE writes XSTATE_BV[1]=0.</remarks>
    private ulong VisibleXinUse => _xinuse | (Mxcsr != InitMxcsr ? XFeatureMasks.Sse : 0);

    private void UpdateInUseByContents(ulong bits)
    {
        while (bits != 0)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(bits);
            bits &= bits - 1;
            if (i == 1 ? Read(1).IndexOfAnyExcept((byte)0) < 0 : IsInitialConfiguration(i))
                _xinuse &= ~(1UL << i);
            else
                _xinuse |= 1UL << i;
        }
    }
}
