using System.Buffers.Binary;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Features;

namespace XsaveLab.Arch.Machine;

// The register file and the operations on registers that are not XSAVE-family instructions.
public sealed partial class XsaveCpu
{
    private RegisterLayout _layout = null!;
    private byte[] _regs = null!;
    private uint _mxcsrMask;
    private bool _fxsaveLeak;
    private bool _la57;

    /// <summary>MXCSR_MASK as XSAVE writes it at bytes 28..31 and as XRSTOR checks MXCSR against it.</summary>
    /// <remarks>Every processor since the Pentium 4 with DAZ reports 0xFFFF (SDM Vol.1 §11.6.6). AMD parts with
    /// misaligned-SSE mode (CPUID 0x80000001:ECX[7] MisAlignSse) add MXCSR[17] MM; this machine's processor
    /// writes 0x0002FFFF (host-interfaces.md gotcha 7). Pre-DAZ parts (0xFFBF) have no XSAVE.</remarks>
    public uint MxcsrMask => _mxcsrMask;

    /// <summary>AMD parts without CPUID 0x80000008:EBX[2] XSaveErPtr store FIP/FDP/FOP only while FSW.ES=1
    /// and zeros otherwise (AMD APM FXSAVE; Linux X86_BUG_FXSAVE_LEAK, arch/x86/kernel/cpu/amd.c).</summary>
    public bool SavesX87PointersOnlyOnError => _fxsaveLeak;

    partial void InitState()
    {
        var p = Profile;
        _layout = new RegisterLayout(p);
        _regs = new byte[_layout.RegisterFileSize];
        bool amd = p.Vendor is CpuVendor.Amd or CpuVendor.Hygon;
        bool misalignSse = p.Leaf(0x80000000).Eax >= 0x80000001 && (p.Leaf(0x80000001).Ecx >> 7 & 1) != 0;
        _mxcsrMask = 0xFFFF | (amd && misalignSse ? 0x20000u : 0);
        _fxsaveLeak = amd && !p.Has(CpuFeature.XsaveErPtr);
        _la57 = (p.Leaf(7).Ecx >> 16 & 1) != 0;
        Reset();
    }

    /// <summary>RESET/INIT: XCR0=1, IA32_XSS=IA32_XFD=IA32_XFD_ERR=0, every component in its initial
    /// configuration, XINUSE=0, no restore tracking (SDM Vol.3A §10.1, table 10-1).</summary>
    public void Reset()
    {
        Array.Clear(_regs);
        BinaryPrimitives.WriteUInt16LittleEndian(_regs, InitFcw);
        BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(RegisterLayout.MxcsrOffset), InitMxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(RegisterLayout.MxcsrMaskOffset), _mxcsrMask);
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
    /// registers take <paramref name="data"/> and XINUSE/XMODIFIED are set.</summary>
    /// <remarks>For x87, bytes 24..31 of <paramref name="data"/> are ignored (MXCSR is set through <see cref="Mxcsr"/>);
    /// reserved bits the processor does not keep (FOP[15:11], byte 5, bytes 10..15 of each ST slot) are cleared.</remarks>
    public XsaveFault Write(int component, ReadOnlySpan<byte> data)
    {
        int off = RegOffset(component);
        int size = _layout.Size[component];
        if (data.Length != size)
            throw new ArgumentException($"component {component} has {size} bytes, got {data.Length}", nameof(data));
        ulong bit = 1UL << component;
        if (component > 1 && (bit & (_xcr0 | Profile.SupportedXss)) == 0)
            return XsaveFault.UD(XsaveRules.ComponentDisabled);
        if ((_xfd & bit) != 0)
        {
            _xfdErr |= bit;
            return XsaveFault.NM(XsaveRules.XfdArmed);
        }
        if (component == 0)
        {
            data[..RegisterLayout.MxcsrOffset].CopyTo(_regs);
            data[32..].CopyTo(_regs.AsSpan(32));
            SanitizeX87();
        }
        else
            data.CopyTo(_regs.AsSpan(off, size));
        MarkLoaded(bit);
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
        get => BinaryPrimitives.ReadUInt32LittleEndian(_regs.AsSpan(RegisterLayout.MxcsrOffset));
        set
        {
            if ((value & ~_mxcsrMask) != 0)
                throw new ArgumentOutOfRangeException(nameof(value), $"MXCSR 0x{value:X} has bits outside MXCSR_MASK 0x{_mxcsrMask:X}");
            BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(RegisterLayout.MxcsrOffset), value);
            _xmodified |= XFeatureMasks.Sse;
            if (Options.XinUse == XinUseTracking.CompareContents)
                UpdateInUseByContents(XFeatureMasks.Sse);
        }
    }

    /// <summary>Is component <paramref name="component"/>'s register content its initial configuration?</summary>
    public bool IsInitialConfiguration(int component)
    {
        var r = Read(component);
        return component switch
        {
            0 => BinaryPrimitives.ReadUInt16LittleEndian(r) == InitFcw && r[2..RegisterLayout.MxcsrOffset].IndexOfAnyExcept((byte)0) < 0
                 && r[32..].IndexOfAnyExcept((byte)0) < 0,
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
                _regs.AsSpan(0, RegisterLayout.MxcsrOffset).Clear();
                _regs.AsSpan(32, RegisterLayout.X87Bytes - 32).Clear();
                BinaryPrimitives.WriteUInt16LittleEndian(_regs, InitFcw);
                break;
            case 1:
                _regs.AsSpan(RegisterLayout.XmmOffset, RegisterLayout.XmmBytes).Clear();
                BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(RegisterLayout.MxcsrOffset), InitMxcsr);
                break;
            default:
                _regs.AsSpan(_layout.RegOffset[i], _layout.Size[i]).Clear();
                break;
        }
    }

    /// <summary>Bits the x87 unit does not keep: byte 5 (reserved), FOP[15:11], bytes 10..15 of every ST slot.</summary>
    private void SanitizeX87()
    {
        _regs[5] = 0;
        _regs[7] &= 0x07;
        for (int st = 0; st < 8; st++)
            _regs.AsSpan(32 + st * 16 + 10, 6).Clear();
    }

    private void MarkLoaded(ulong bits)
    {
        _xmodified |= bits;
        if (Options.XinUse == XinUseTracking.SetOnLoad)
            _xinuse |= bits;
        else
            UpdateInUseByContents(bits);
    }

    private void UpdateInUseByContents(ulong bits)
    {
        while (bits != 0)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(bits);
            bits &= bits - 1;
            if (IsInitialConfiguration(i))
                _xinuse &= ~(1UL << i);
            else
                _xinuse |= 1UL << i;
        }
    }
}
