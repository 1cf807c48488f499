namespace XsaveLab.Kernel.Tasks;

/// <summary><c>struct fpstate</c>: one register buffer and its metadata (arch/x86/include/asm/fpu/types.h). The
/// one model of it: the task model allocates it, the UABI conversions (signal frames, ptrace, core notes) read
/// and write it, and the simulator sizes its pooled buffers from its <see cref="Shape"/>.</summary>
/// <remarks>The buffer is a managed array of the allocation's capacity; <see cref="Address"/> is the model
/// linear address of <c>regs</c> (64-byte aligned, as XSAVE requires) that the model CPU sees. Saves never
/// get more than <see cref="Size"/> bytes (<see cref="Regs"/>).</remarks>
public sealed class FpState
{
    internal FpState(int id, int capacity, ulong address, bool isValloc)
    {
        Id = id;
        Buffer = new byte[capacity];
        Address = address;
        IsValloc = isValloc;
    }

    /// <summary>A detached fpstate (not allocated by a <see cref="LinuxKernel"/>; id and address 0) of
    /// <paramref name="shape"/> with a zeroed buffer of at least <paramref name="capacity"/> bytes.</summary>
    public static FpState Detached(FpStateShape shape, int capacity = 0)
    {
        var fps = new FpState(0, Math.Max(capacity, shape.Size), 0, isValloc: false);
        fps.Apply(shape);
        return fps;
    }

    /// <summary>A value copy: same fields, a buffer of its own.</summary>
    public FpState Clone()
    {
        var c = (FpState)MemberwiseClone();
        c.Buffer = (byte[])Buffer.Clone();
        return c;
    }

    /// <summary><see cref="Clone()"/> recorded in <paramref name="map"/> (a kernel copy in progress).</summary>
    internal static FpState Clone(FpState o, CloneMap map)
    {
        var c = o.Clone();
        map.Add(o, c);
        return c;
    }

    /// <summary>Allocation number within its kernel (for reports).</summary>
    public int Id { get; }

    /// <summary>size: kernel buffer size in bytes.</summary>
    public int Size { get; internal set; }

    /// <summary>user_size: UABI (standard format) size.</summary>
    public int UserSize { get; internal set; }

    /// <summary>xfeatures: features the buffer is sized for; the RFBM of saves.</summary>
    public ulong Xfeatures { get; internal set; }

    /// <summary>user_xfeatures: features valid in UABI buffers.</summary>
    public ulong UserXfeatures { get; internal set; }

    /// <summary>xfd: features disabled through IA32_XFD while this fpstate is active.</summary>
    public ulong Xfd { get; internal set; }

    public bool IsValloc { get; }
    public bool IsGuest { get; internal set; }
    public bool IsConfidential { get; internal set; }
    public bool InUse { get; internal set; }

    /// <summary>vfree()d (the object stays for inspection; nothing may use it).</summary>
    public bool Freed { get; internal set; }

    /// <summary>The allocation (capacity ≥ <see cref="Size"/>).</summary>
    public byte[] Buffer { get; private set; }

    public ulong Address { get; }

    /// <summary>regs: the first <see cref="Size"/> bytes.</summary>
    public Span<byte> Regs => Buffer.AsSpan(0, Size);

    /// <summary>The sizing fields together (<see cref="FpStateShape"/>).</summary>
    public FpStateShape Shape => new(Size, Xfeatures, UserSize, UserXfeatures, Xfd, IsGuest);

    /// <summary>Sets the sizing fields from <paramref name="shape"/>; the buffer must hold its size.</summary>
    internal void Apply(FpStateShape shape)
    {
        if (shape.Size > Buffer.Length)
            throw new InvalidOperationException($"fpstate#{Id}: a {shape.Size}-byte shape does not fit its {Buffer.Length}-byte buffer");
        Size = shape.Size;
        Xfeatures = shape.Xfeatures;
        UserSize = shape.UserSize;
        UserXfeatures = shape.UserXfeatures;
        Xfd = shape.Xfd;
        IsGuest = shape.IsGuest;
    }

    /// <summary><c>fpu_reset_fpstate_regs()</c>'s copy of init_fpstate into <paramref name="regs"/> (the first
    /// <paramref name="copySize"/> bytes, <c>init_fpstate_copy_size()</c>: legacy area and header with XSAVE), then
    /// XCOMP_BV = <paramref name="xfeatures"/> | bit 63 for a compacted buffer (<c>xstate_init_xcomp_bv()</c>). For
    /// every holder of fpstate buffers: the task model, the UABI's detached ones and the simulator's slots.</summary>
    public static void ResetRegs(Span<byte> regs, ReadOnlySpan<byte> initFpstate, int copySize, ulong xfeatures, bool compacted)
    {
        int n = Math.Min(Math.Min(copySize, initFpstate.Length), regs.Length);
        initFpstate[..n].CopyTo(regs);
        if (compacted && regs.Length >= XsaveOffsets.ExtendedStart)
            BinaryPrimitives.WriteUInt64LittleEndian(regs[XsaveOffsets.XcompBv..], xfeatures | XFeatureMasks.CompactedFormat);
    }

    /// <summary>The buffer holds an XSAVE header (it does not when only FXSAVE is in use: 512 bytes).</summary>
    public bool HasXsaveHeader => Buffer.Length >= XsaveOffsets.ExtendedStart;

    /// <summary>header.xfeatures (XSTATE_BV); 0 for an FXSAVE-only buffer, where writing it does nothing (there
    /// is no header to record in-use bits in).</summary>
    public ulong XstateBv
    {
        get => HasXsaveHeader ? BinaryPrimitives.ReadUInt64LittleEndian(Buffer.AsSpan(XsaveOffsets.XstateBv)) : 0;
        set
        {
            if (HasXsaveHeader)
                BinaryPrimitives.WriteUInt64LittleEndian(Buffer.AsSpan(XsaveOffsets.XstateBv), value);
        }
    }

    /// <summary>header.xcomp_bv.</summary>
    public ulong XcompBv
    {
        get => HasXsaveHeader ? BinaryPrimitives.ReadUInt64LittleEndian(Buffer.AsSpan(XsaveOffsets.XcompBv)) : 0;
        internal set
        {
            if (HasXsaveHeader)
                BinaryPrimitives.WriteUInt64LittleEndian(Buffer.AsSpan(XsaveOffsets.XcompBv), value);
        }
    }

    public override string ToString() =>
        $"fpstate#{Id} size={Size} xfeatures=0x{Xfeatures:x} xfd=0x{Xfd:x}{(IsGuest ? " guest" : "")}{(IsValloc ? " valloc" : "")}{(InUse ? " in_use" : "")}";
}
