using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>
/// A small test oracle for the user-mode instructions (SDM Vol.1 §13.7–§13.11): register state after a
/// standard-form XRSTOR, and the area a save leaves given that state and XINUSE. It exists to check the
/// harness end to end; the instruction model proper lives in XsaveLab.Arch.
/// </summary>
internal static class SaveOracle
{
    /// <summary>Register state (as standard-form bytes, init values where a component was initialised)
    /// after XRSTOR of the standard <paramref name="image"/> with <paramref name="mask"/>, starting from
    /// <paramref name="live"/> (a standard XSAVE of the state before).</summary>
    public static byte[] StateAfterRestore(NativeXsave x, CpuProfile cpu, ReadOnlySpan<byte> live, ReadOnlySpan<byte> image, ulong mask)
    {
        var s = live[..x.StandardSize].ToArray();
        ulong bv = XstateBv(image), rfbm = x.Xcr0 & mask;
        foreach (int i in Bits(rfbm))
            foreach (var (off, len) in StandardRanges(cpu, i))
            {
                if ((bv >> i & 1) != 0)
                    image.Slice(off, len).CopyTo(s.AsSpan(off));
                else
                    s.AsSpan(off, len).Clear();
            }
        if ((rfbm & 1) != 0 && (bv & 1) == 0)
            BinaryPrimitives.WriteUInt16LittleEndian(s, 0x037F); // FCW's initial value
        else if ((rfbm & 1) != 0)
            NormalizeX87(s);
        if ((rfbm & 6) != 0)
            image.Slice(24, 4).CopyTo(s.AsSpan(24)); // standard form: MXCSR loaded whatever XSTATE_BV says
        return s;
    }

    /// <summary>What the x87 control/status words read back as once loaded (observed on this host; the
    /// same as FNSTCW/FNSTSW): FCW bit 6 reads as 1 and bits 13..15 as 0; FSW.ES (bit 7) and FSW.B (bit 15)
    /// are recomputed as "some exception flag in bits 0..5 is unmasked in FCW"; the reserved byte 5 reads 0.</summary>
    public static void NormalizeX87(Span<byte> s)
    {
        ushort fcw = (ushort)((BinaryPrimitives.ReadUInt16LittleEndian(s) & 0x1F3F) | 0x0040);
        ushort fsw = BinaryPrimitives.ReadUInt16LittleEndian(s[2..]);
        bool es = (fsw & ~fcw & 0x3F) != 0;
        fsw = (ushort)((fsw & 0x7F7F) | (es ? 0x8080 : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(s, fcw);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], fsw);
        s[5] = 0;
    }

    /// <summary>Register state after XRSTOR of the compacted <paramref name="area"/> with
    /// <paramref name="mask"/> on top of <paramref name="before"/>: components in RFBM load from their
    /// compacted offset when XCOMP_BV and XSTATE_BV both have them, otherwise they are initialised; MXCSR
    /// goes with SSE (1F80H when SSE is initialised).</summary>
    public static byte[] StateAfterCompactedRestore(NativeXsave x, CpuProfile cpu, ReadOnlySpan<byte> before, ReadOnlySpan<byte> area, ulong mask)
    {
        var s = before[..x.StandardSize].ToArray();
        ulong bv = XstateBv(area), comp = XcompBv(area) & ~(1UL << 63), rfbm = x.Xcr0 & mask;
        var layout = XStateLayout.CompactedForm(cpu, comp);
        foreach (int i in Bits(rfbm))
        {
            bool load = ((bv & comp) >> i & 1) != 0;
            int shift = i < 2 ? 0 : layout.OffsetOf(i) - cpu.Component(i)!.Value.StandardOffset!.Value;
            foreach (var (off, len) in StandardRanges(cpu, i))
            {
                if (load)
                    area.Slice(off + shift, len).CopyTo(s.AsSpan(off));
                else
                    s.AsSpan(off, len).Clear();
            }
            if (i == 0 && !load)
                BinaryPrimitives.WriteUInt16LittleEndian(s, 0x037F);
        }
        if ((rfbm & 2) != 0)
        {
            if ((bv & comp & 2) != 0)
                area.Slice(24, 4).CopyTo(s.AsSpan(24));
            else
                BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(24), 0x1F80);
        }
        return s;
    }

    /// <summary>XINUSE after a compacted XRSTOR (components present in the area are in use).</summary>
    public static ulong InUseAfterCompactedRestore(NativeXsave x, ulong before, ReadOnlySpan<byte> area, ulong mask)
    {
        ulong rfbm = x.Xcr0 & mask, present = XstateBv(area) & XcompBv(area);
        return ((before & ~rfbm) | (present & rfbm)) & x.Xcr0;
    }

    /// <summary>Whether component <paramref name="i"/> of <paramref name="state"/> holds its initial
    /// configuration (x87: FCW 037FH, everything else 0; SSE: XMM registers 0 — MXCSR is not part of
    /// XINUSE[1]; others: all bytes 0).</summary>
    public static bool InitValued(CpuProfile cpu, ReadOnlySpan<byte> state, int i)
    {
        foreach (var (off, len) in StandardRanges(cpu, i))
        {
            var d = state.Slice(off, len);
            if (i == 0 && off == 0)
            {
                if (BinaryPrimitives.ReadUInt16LittleEndian(d) != 0x037F || d[2..].IndexOfAnyExcept((byte)0) >= 0)
                    return false;
            }
            else if (d.IndexOfAnyExcept((byte)0) >= 0)
                return false;
        }
        return true;
    }

    /// <summary>XINUSE after that XRSTOR: restored components follow XSTATE_BV, others keep the live bits.</summary>
    public static ulong InUseAfterRestore(NativeXsave x, ReadOnlySpan<byte> live, ReadOnlySpan<byte> image, ulong mask)
    {
        ulong rfbm = x.Xcr0 & mask;
        return ((XstateBv(live) & ~rfbm) | (XstateBv(image) & rfbm)) & x.Xcr0;
    }

    /// <summary>What XGETBV(1) reports for that state: XCR0 AND XINUSE, except that bit 1 is also set while
    /// MXCSR differs from its initial value 1F80H (SDM Vol.1 §13.6; XINUSE[1] itself covers only the XMM
    /// registers, which is what the saves' init optimization looks at).</summary>
    public static ulong Xgetbv1(NativeXsave x, ReadOnlySpan<byte> state, ulong inUse) =>
        (inUse | (Mxcsr(state) != 0x1F80 ? 2UL : 0)) & x.Xcr0;

    /// <summary>The area <paramref name="kind"/> with <paramref name="rfbm"/> leaves in
    /// <paramref name="fill"/>, given register state <paramref name="state"/> and <paramref name="inUse"/>.
    /// No modified optimization (the save never targets the address of the last XRSTOR here).</summary>
    public static byte[] Save(NativeXsave x, CpuProfile cpu, ReadOnlySpan<byte> state, ulong inUse, ulong rfbm, SaveInstruction kind, ReadOnlySpan<byte> fill)
    {
        rfbm &= x.Xcr0;
        var o = fill.ToArray();
        bool compacted = kind == SaveInstruction.Xsavec;
        // Observed here: XSAVEC counts SSE as in use while MXCSR is not 1F80H (a compacted XRSTOR with
        // XSTATE_BV[1] = 0 would reset MXCSR), whereas XSAVEOPT looks at XINUSE[1] alone and writes MXCSR anyway.
        if (compacted)
            inUse = Xgetbv1(x, state, inUse);
        var layout = compacted ? XStateLayout.CompactedForm(cpu, rfbm) : null;
        foreach (int i in Bits(rfbm))
        {
            bool write = kind == SaveInstruction.Xsave || (inUse >> i & 1) != 0;
            if (!write)
                continue;
            int shift = i < 2 || layout is null ? 0 : layout.OffsetOf(i) - cpu.Component(i)!.Value.StandardOffset!.Value;
            foreach (var (off, len) in StandardRanges(cpu, i))
                state.Slice(off, len).CopyTo(o.AsSpan(off + shift));
        }
        bool mxcsr = compacted ? (rfbm & inUse & 2) != 0 : (rfbm & 6) != 0;
        if (mxcsr)
        {
            state.Slice(24, 4).CopyTo(o.AsSpan(24));
            BinaryPrimitives.WriteUInt32LittleEndian(o.AsSpan(28), x.MxcsrMask);
        }
        if (compacted)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(o.AsSpan(Header), rfbm & inUse);
            BinaryPrimitives.WriteUInt64LittleEndian(o.AsSpan(Header + 8), rfbm | 1UL << 63);
        }
        else
        {
            ulong old = XstateBv(fill);
            BinaryPrimitives.WriteUInt64LittleEndian(o.AsSpan(Header), (old & ~rfbm) | (inUse & rfbm));
        }
        return o;
    }

    /// <summary><see cref="RandomImage"/> on the live state, saved by XSAVE into <paramref name="live"/> first.</summary>
    public static byte[] RandomImageOnLive(NativeXsave x, CpuProfile cpu, byte[] live, Random rng)
    {
        x.SaveLive(SaveInstruction.Xsave, x.Xcr0, live);
        return RandomImage(x, cpu, live, rng);
    }

    /// <summary>A standard image with random register contents and a random XSTATE_BV; PKRU holds the live
    /// value; FOP/FIP/FDP are zero (what a save stores there is vendor-specific); MXCSR is valid.</summary>
    public static byte[] RandomImage(NativeXsave x, CpuProfile cpu, ReadOnlySpan<byte> live, Random rng)
    {
        var img = new byte[x.StandardSize];
        live[..x.StandardSize].CopyTo(img);
        rng.NextBytes(img.AsSpan(0, 8));
        img.AsSpan(6, 18).Clear();
        uint mxcsr = rng.Next(4) == 0 ? (uint)rng.Next() & x.MxcsrMask : 0x1F80;
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(24), mxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(28), (uint)rng.Next());
        for (int r = 0; r < 8; r++)
        {
            var slot = img.AsSpan(StSlots + 16 * r, 16);
            slot.Clear();
            rng.NextBytes(slot[..10]);
        }
        rng.NextBytes(img.AsSpan(Xmm, 256));
        rng.NextBytes(img.AsSpan(416, Header - 416));
        img.AsSpan(Header, 64).Clear();
        foreach (var p in XStateLayout.Standard(cpu, x.Xcr0).Components)
        {
            if (p.Number < 2 || p.Number == 9)
                continue;
            var data = img.AsSpan(p.Offset, p.Size);
            rng.NextBytes(data);
            data[0] |= 1;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(Header), x.RestorableComponents & (ulong)rng.NextInt64());
        return img;
    }
}
