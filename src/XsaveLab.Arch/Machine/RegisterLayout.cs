namespace XsaveLab.Arch.Machine;

/// <summary>Per-profile tables the instruction model works from: where each component's registers live in
/// the register file, its CPUID size and standard offset, the bytes the instructions transfer, and the
/// alignment bits of the compacted form. Built once per <see cref="XsaveCpu"/>; the hot paths only index arrays.</summary>
/// <remarks>The register file holds the legacy region at its FXSAVE offsets (x87 at 0, MXCSR at 24,
/// MXCSR_MASK at 28, XMM at 160) and every other enumerated component at its offset in the compacted
/// form of XCR0|XSS as supported (SDM Vol.1 §13.4.3). On a CPU without holes that is also the standard
/// layout, so a full save or restore is a couple of contiguous copies.</remarks>
internal sealed class RegisterLayout
{
    public readonly int[] RegOffset = new int[64];
    public readonly int[] Size = new int[64];
    public readonly int[] Transfer = new int[64];
    public readonly int[] StandardOffset = new int[64];
    public readonly ulong Aligned;
    public readonly ulong Enumerated;
    public readonly ulong XfdCapable;
    public readonly int RegisterFileSize;

    public RegisterLayout(CpuProfile cpu)
    {
        Array.Fill(RegOffset, -1);
        Array.Fill(StandardOffset, -1);
        RegOffset[0] = XsaveOffsets.Fcw;
        Size[0] = Transfer[0] = XsaveOffsets.X87Size;
        StandardOffset[0] = XsaveOffsets.Fcw;
        RegOffset[1] = XsaveOffsets.XmmSpace;
        Size[1] = Transfer[1] = XsaveOffsets.XmmSpaceSize;
        StandardOffset[1] = XsaveOffsets.XmmSpace;
        Enumerated = XFeatureMasks.FpSse;

        int offs = XsaveOffsets.ExtendedStart;
        ulong all = (cpu.SupportedXcr0 | cpu.SupportedXss) & XFeatureMasks.Extend;
        for (int i = 2; i < 63; i++)
        {
            if ((all >> i & 1) == 0 || cpu.Component(i) is not { } c)
                continue;
            Enumerated |= 1UL << i;
            if (c.Aligned64)
            {
                Aligned |= 1UL << i;
                offs = XsaveOffsets.Align64(offs);
            }
            if (c.Xfd)
                XfdCapable |= 1UL << i;
            RegOffset[i] = offs;
            Size[i] = c.Size;
            Transfer[i] = TransferBytes(i, c.Size);
            StandardOffset[i] = c.StandardOffset ?? -1;
            offs += c.Size;
        }
        RegisterFileSize = offs;
    }

    /// <summary>Bytes of component <paramref name="i"/> that XSAVE writes and XRSTOR reads.</summary>
    /// <remarks>PKRU is one 32-bit register in an 8-byte (Zen 2: 64-byte) slot: XSAVE/XSAVEC were seen to
    /// write only the first 4 bytes and leave the rest of the slot untouched (docs/host-interfaces.md item 4).</remarks>
    private static int TransferBytes(int i, int size) => i == (int)XFeature.Pkru ? Math.Min(4, size) : size;

    /// <summary>Offset of component <paramref name="component"/> in a compacted area holding <paramref name="mask"/>.</summary>
    public int CompactedOffset(ulong mask, int component)
    {
        int offs = XsaveOffsets.ExtendedStart;
        ulong m = mask & XFeatureMasks.Extend & Enumerated;
        while (m != 0)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(m);
            m &= m - 1;
            if ((Aligned >> i & 1) != 0)
                offs = XsaveOffsets.Align64(offs);
            if (i == component)
                return offs;
            offs += Size[i];
        }
        return -1;
    }

    /// <summary>End of the area an instruction touches for <paramref name="mask"/> in the given form
    /// (at least the legacy region and header).</summary>
    public int AreaEnd(ulong mask, bool compacted)
    {
        int end = XsaveOffsets.ExtendedStart, offs = XsaveOffsets.ExtendedStart;
        ulong m = mask & XFeatureMasks.Extend & Enumerated;
        while (m != 0)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(m);
            m &= m - 1;
            if (compacted)
            {
                if ((Aligned >> i & 1) != 0)
                    offs = XsaveOffsets.Align64(offs);
                offs += Size[i];
                end = offs;
            }
            else if (StandardOffset[i] >= 0)
                end = Math.Max(end, StandardOffset[i] + Size[i]);
        }
        return end;
    }

    /// <summary>Walks the extended components (2..62) of <paramref name="moved"/> with each one's offset in the
    /// area: its standard offset (CPUID.(EAX=0DH,ECX=i):EBX), or in compacted form the slot after every earlier
    /// component of <paramref name="slots"/> (XCOMP_BV; RFBM when saving), 64-byte aligned where
    /// CPUID.(EAX=0DH,ECX=i):ECX[1] is set (SDM Vol. 1 §13.4.3). A compacted slot is reserved whether or not its
    /// component is moved.</summary>
    public AreaWalk Walk(ulong slots, ulong moved, bool compacted) => new(this, slots, moved, compacted);

    /// <summary>The state of a <see cref="Walk"/>: a struct so that the save and restore loops allocate nothing.</summary>
    internal struct AreaWalk(RegisterLayout layout, ulong slots, ulong moved, bool compacted)
    {
        private ulong _left = (compacted ? slots : moved) & XFeatureMasks.Extend;
        private int _offs = XsaveOffsets.ExtendedStart;

        /// <summary>The next component moved and its offset in the area; false when there is none.</summary>
        public bool Next(out int component, out int offset)
        {
            while (_left != 0)
            {
                int i = BitOperations.TrailingZeroCount(_left);
                _left &= _left - 1;
                if (compacted)
                {
                    if ((layout.Aligned >> i & 1) != 0)
                        _offs = XsaveOffsets.Align64(_offs);
                    offset = _offs;
                    _offs += layout.Size[i];
                    if ((moved >> i & 1) == 0)
                        continue;
                }
                else
                    offset = layout.StandardOffset[i];
                component = i;
                return true;
            }
            component = offset = 0;
            return false;
        }
    }
}
