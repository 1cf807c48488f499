using System.Buffers.Binary;
using XsaveLab.Arch.Features;

namespace XsaveLab.Kvm.Guest;

/// <summary><c>struct fpstate</c>: one kernel XSAVE buffer and its metadata.</summary>
/// <remarks>arch/x86/include/asm/fpu/types.h; the buffer is in the kernel's (compacted when XSAVES/XSAVEC) format.</remarks>
public sealed class FpState
{
    public FpState(int size, bool isGuest)
    {
        Size = size;
        IsGuest = isGuest;
        Regs = new byte[size];
    }

    public int Size { get; }
    public int UserSize { get; set; }
    public ulong Xfeatures { get; set; }
    public ulong UserXfeatures { get; set; }
    public ulong Xfd { get; set; }
    public bool IsValloc { get; set; }
    public bool IsGuest { get; }
    public bool IsConfidential { get; set; }
    public bool InUse { get; set; }

    /// <summary>The register buffer (64-byte aligned in the kernel; modelled as its own array).</summary>
    public byte[] Regs { get; }

    /// <summary>XSTATE_BV, header offset 512.</summary>
    public ulong XstateBv
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(Regs.AsSpan(512));
        set => BinaryPrimitives.WriteUInt64LittleEndian(Regs.AsSpan(512), value);
    }

    /// <summary>XCOMP_BV, header offset 520.</summary>
    public ulong XcompBv
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(Regs.AsSpan(520));
        set => BinaryPrimitives.WriteUInt64LittleEndian(Regs.AsSpan(520), value);
    }

    /// <summary><c>fpstate_init_user()</c>: legacy init values (FCW 0x37F, MXCSR 0x1F80) and, for compacted
    /// kernels, <c>xstate_init_xcomp_bv()</c> = xfeatures | bit 63.</summary>
    public void InitUser(bool compacted)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Regs.AsSpan(0), 0x37F);
        BinaryPrimitives.WriteUInt32LittleEndian(Regs.AsSpan(24), 0x1F80);
        InitXcompBv(compacted);
    }

    /// <summary><c>xstate_init_xcomp_bv()</c>.</summary>
    public void InitXcompBv(bool compacted)
    {
        if (compacted && Size > 512)
            XcompBv = Xfeatures | XFeatureMasks.CompactedFormat;
    }

    public override string ToString() =>
        $"fpstate size {Size} xfeatures 0x{Xfeatures:x} user_xfeatures 0x{UserXfeatures:x} xfd 0x{Xfd:x}{(IsGuest ? " guest" : "")}{(InUse ? " in_use" : "")}";
}
