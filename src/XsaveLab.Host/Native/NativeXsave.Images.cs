namespace XsaveLab.Host.Native;

/// <summary>Image checks and buffer preparation: nothing reaches XRSTOR that would fault.</summary>
public sealed partial class NativeXsave
{
    /// <summary>Offset of component <paramref name="feature"/> (2..62) in a compacted area whose XCOMP_BV is
    /// <paramref name="xcompBv"/>, else -1 when the component is not part of it.</summary>
    public int CompactedOffsetOf(ulong xcompBv, int feature)
    {
        if ((uint)feature >= 63 || feature < 2 || ((xcompBv & Xcr0) >> feature & 1) == 0)
            return -1;
        int off = XsaveOffsets.ExtendedStart;
        for (int i = 2; i <= feature; i++)
        {
            if (((xcompBv & Xcr0) >> i & 1) == 0)
                continue;
            if (_align64[i])
                off = XsaveOffsets.Align64(off);
            if (i == feature)
                return off;
            off += _size[i];
        }
        return -1;
    }

    /// <summary>
    /// Null when XRSTOR64 of <paramref name="image"/> with <paramref name="restoreMask"/> is safe to run
    /// here, otherwise why the harness refuses it. Bytes 528..575 are ignored (the harness zeroes them).
    /// </summary>
    /// <remarks>Refused: standard form with XSTATE_BV outside XCR0 or XCOMP_BV ≠ 0; compacted form without
    /// XSAVEC, with XCOMP_BV[62:0] outside XCR0 or XSTATE_BV outside XCOMP_BV (each a #GP, SDM Vol.1 §13.8);
    /// MXCSR with bits outside MXCSR_MASK when it would be loaded (#GP); a PKRU value other than the live
    /// one (protection key 0 must stay accessible while the stub runs); data for AMX tile state or any
    /// XFD-capable component (CPUID(0xD,i).ECX[2]): Linux arms XFD for those until the process requests
    /// permission, so XRSTOR would raise #NM, and an invalid tile configuration raises #GP. Restoring
    /// them as init (XSTATE_BV bit clear) is allowed.</remarks>
    public string? CheckRestorable(ReadOnlySpan<byte> image, ulong restoreMask)
    {
        ThrowIfDisposed();
        if (image.Length < XsaveOffsets.ExtendedStart)
            return $"an image needs at least {XsaveOffsets.ExtendedStart} bytes (legacy region and header); got {image.Length}";
        if (image.Length > AreaSize)
            return $"an image is at most {AreaSize} bytes here; got {image.Length}";
        ulong xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(image[XsaveOffsets.XstateBv..]);
        ulong xcompBv = BinaryPrimitives.ReadUInt64LittleEndian(image[XsaveOffsets.XcompBv..]);
        ulong rfbm = Xcr0 & restoreMask;
        bool compacted = (xcompBv & CompactedBit) != 0;
        // The harness zeroes header bytes 16..63 before restoring, so only XSTATE_BV and XCOMP_BV are judged.
        Span<byte> header = stackalloc byte[XsaveOffsets.HeaderSize];
        image.Slice(XsaveOffsets.Header, 16).CopyTo(header);
        string? headerRule = XsaveDataRules.XrstorHeaderViolation(header, Xcr0, Xcr0, HasXsavec, xrstors: false);
        if (headerRule is not null)
            return headerRule switch
            {
                XsaveRules.XstateBvNotInXcr0 => $"XSTATE_BV 0x{xstateBv:x} has bits outside XCR0 0x{Xcr0:x} (XRSTOR would #GP)",
                XsaveRules.StandardHeaderReserved => $"XCOMP_BV 0x{xcompBv:x} must be 0 in a standard-form image (XRSTOR would #GP)",
                XsaveRules.CompactedNeedsXsavec => "a compacted image needs XSAVEC support (XRSTOR would #GP)",
                XsaveRules.XcompBvNotEnabled => $"XCOMP_BV 0x{xcompBv:x} has bits outside XCR0 0x{Xcr0:x} (XRSTOR would #GP)",
                XsaveRules.XstateBvNotInXcompBv => $"XSTATE_BV 0x{xstateBv:x} has bits outside XCOMP_BV 0x{xcompBv:x} (XRSTOR would #GP)",
                _ => $"{headerRule} (XRSTOR would #GP)",
            };

        ulong present = (compacted ? xstateBv & xcompBv : xstateBv) & rfbm;
        if ((present & _neverRestored) != 0)
            return $"the image would load components 0x{present & _neverRestored:x} (AMX tile state / XFD-capable): an armed XFD makes XRSTOR raise #NM (SIGILL without permission) and a bad tile configuration #GP; restore them as init or leave them out of the mask";

        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(image[XsaveOffsets.Mxcsr..]);
        bool mxcsrLoaded = compacted ? (rfbm & xstateBv & 6) != 0 : (rfbm & 6) != 0;
        if (mxcsrLoaded && XsaveDataRules.MxcsrHasReservedBits(mxcsr, MxcsrMask))
            return $"MXCSR 0x{mxcsr:x8} has bits outside MXCSR_MASK 0x{MxcsrMask:x8} (XRSTOR would #GP)";

        if ((rfbm & PkruBit) != 0)
        {
            uint value = 0; // PKRU's initial configuration
            if ((xstateBv & PkruBit) != 0)
            {
                int off = compacted ? CompactedOffsetOf(xcompBv, 9) : _standardOffset[9];
                value = off >= 0 && off + 4 <= image.Length ? BinaryPrimitives.ReadUInt32LittleEndian(image[off..]) : 0;
            }
            uint live = ReadPkru();
            if (value != live)
                return $"the restore would load PKRU 0x{value:x8} but the live value is 0x{live:x8}; leave bit 9 out of the restore mask or use the live value";
        }
        return null;
    }

    private int CompactedEnd(ulong xcompBv)
    {
        int off = XsaveOffsets.ExtendedStart;
        for (int i = 2; i < 63; i++)
        {
            if (((xcompBv & Xcr0) >> i & 1) == 0)
                continue;
            if (_align64[i])
                off = XsaveOffsets.Align64(off);
            off += _size[i];
        }
        return off;
    }

    private void LoadImage(AlignedBuffer target, ReadOnlySpan<byte> image, ulong restoreMask, string param)
    {
        ThrowIfDisposed();
        if (CheckRestorable(image, restoreMask) is { } problem)
            throw new ArgumentException(problem, param);
        var dst = target.Span;
        image.CopyTo(dst);
        dst[image.Length..].Clear();
        dst[XsaveOffsets.HeaderReserved..XsaveOffsets.ExtendedStart].Clear();
    }

    private void LoadFill(AlignedBuffer target, ReadOnlySpan<byte> fill, string param, bool restorable)
    {
        CheckLength(fill.Length, param);
        var dst = target.Span;
        fill.CopyTo(dst);
        dst[fill.Length..].Clear();
        if (!restorable)
            return;
        dst[XsaveOffsets.Header..XsaveOffsets.ExtendedStart].Clear();
        if (XsaveDataRules.MxcsrHasReservedBits(BinaryPrimitives.ReadUInt32LittleEndian(dst[XsaveOffsets.Mxcsr..]), MxcsrMask))
            BinaryPrimitives.WriteUInt32LittleEndian(dst[XsaveOffsets.Mxcsr..], 0x1F80);
    }

    private void CheckLength(int length, string param)
    {
        ThrowIfDisposed();
        if (length > AreaSize)
            throw new ArgumentException($"at most {AreaSize} bytes here; got {length}", param);
    }
}
