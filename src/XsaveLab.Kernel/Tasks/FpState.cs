using System.Buffers.Binary;
using XsaveLab.Arch.Layout;
using XsaveLab.Arch.Machine;

namespace XsaveLab.Kernel.Tasks;

/// <summary><c>struct fpstate</c>: one register buffer and its metadata (arch/x86/include/asm/fpu/types.h).</summary>
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
    public byte[] Buffer { get; }

    public ulong Address { get; }

    /// <summary>regs: the first <see cref="Size"/> bytes.</summary>
    public Span<byte> Regs => Buffer.AsSpan(0, Size);

    /// <summary>header.xfeatures (XSTATE_BV).</summary>
    public ulong XstateBv
    {
        get => Buffer.Length >= XsaveOffsets.ExtendedStart ? BinaryPrimitives.ReadUInt64LittleEndian(Buffer.AsSpan(XsaveOffsets.Header)) : 0;
        internal set => BinaryPrimitives.WriteUInt64LittleEndian(Buffer.AsSpan(XsaveOffsets.Header), value);
    }

    /// <summary>header.xcomp_bv.</summary>
    public ulong XcompBv
    {
        get => Buffer.Length >= XsaveOffsets.ExtendedStart ? BinaryPrimitives.ReadUInt64LittleEndian(Buffer.AsSpan(XsaveOffsets.Header + 8)) : 0;
        internal set => BinaryPrimitives.WriteUInt64LittleEndian(Buffer.AsSpan(XsaveOffsets.Header + 8), value);
    }

    public override string ToString() =>
        $"fpstate#{Id} size={Size} xfeatures=0x{Xfeatures:x} xfd=0x{Xfd:x}{(IsGuest ? " guest" : "")}{(IsValloc ? " valloc" : "")}{(InUse ? " in_use" : "")}";
}
