using System.Buffers.Binary;
using XsaveLab.Arch.Features;
using XsaveLab.Arch.Machine;

namespace XsaveLab.Kernel.Uabi;

/// <summary>The parts of a <c>struct fpstate</c> the UABI conversions read and write: the kernel-format
/// register buffer and its feature masks. Mutable like the kernel's; <see cref="Clone"/> gives a value copy.</summary>
/// <remarks>arch/x86/include/asm/fpu/types.h <c>struct fpstate</c>; reset per <c>__fpstate_reset()</c>.</remarks>
public sealed class UabiFpState
{
    public UabiFpState(byte[] regs, ulong xfeatures, ulong userXfeatures, int userSize)
    {
        Regs = regs;
        Xfeatures = xfeatures;
        UserXfeatures = userXfeatures;
        UserSize = userSize;
    }

    /// <summary>regs: the XSAVE(S) buffer in kernel format (compacted when XCOMPACTED).</summary>
    public byte[] Regs { get; }

    /// <summary>xfeatures: features the buffer is sized for (RFBM of XSAVES).</summary>
    public ulong Xfeatures { get; set; }

    /// <summary>user_xfeatures: features valid in UABI buffers of this fpstate.</summary>
    public ulong UserXfeatures { get; set; }

    /// <summary>user_size: standard-format size of the UABI image (signal frames).</summary>
    public int UserSize { get; set; }

    /// <summary>header.xfeatures (XSTATE_BV) of <see cref="Regs"/>.</summary>
    public ulong XstateBv
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(Regs.AsSpan(XsaveOffsets.XstateBv));
        set => BinaryPrimitives.WriteUInt64LittleEndian(Regs.AsSpan(XsaveOffsets.XstateBv), value);
    }

    /// <summary>header.xcomp_bv of <see cref="Regs"/>.</summary>
    public ulong XcompBv => BinaryPrimitives.ReadUInt64LittleEndian(Regs.AsSpan(XsaveOffsets.XcompBv));

    public UabiFpState Clone() => new((byte[])Regs.Clone(), Xfeatures, UserXfeatures, UserSize);

    /// <summary>A task's default fpstate after <c>fpstate_reset()</c> + <c>fpu_reset_fpstate_regs()</c>: the
    /// default-sized buffer holding init_fpstate's registers, XCOMP_BV = default features | bit 63.</summary>
    public static UabiFpState CreateDefault(UabiConfig cfg)
    {
        ulong kernelDefault = cfg.KernelMaxFeatures & ~(XFeatureMasks.UserDynamic | XFeatureMasks.CetKernel);
        int size = Math.Max(XsaveOffsets.ExtendedStart, Arch.Layout.XStateGeometry.Size(cfg.Cpu, kernelDefault, cfg.Compacted));
        var regs = new byte[size];
        cfg.InitFpstate.AsSpan(0, XsaveOffsets.ExtendedStart).CopyTo(regs);
        if (cfg.Compacted)
            BinaryPrimitives.WriteUInt64LittleEndian(regs.AsSpan(XsaveOffsets.XcompBv), kernelDefault | XFeatureMasks.CompactedFormat);
        return new UabiFpState(regs, kernelDefault, cfg.UserDefaultFeatures, cfg.UserDefaultSize);
    }
}

/// <summary>The per-thread state the UABI paths touch: the active fpstate and <c>thread.pkru</c>.</summary>
public sealed class UabiTask
{
    public UabiTask(UabiFpState fpstate, uint pkru)
    {
        Fpstate = fpstate;
        Pkru = pkru;
    }

    public UabiFpState Fpstate { get; set; }

    /// <summary>thread.pkru: the PKRU value the task runs with (PKRU is switched eagerly, not via XRSTOR).</summary>
    public uint Pkru { get; set; }

    /// <summary>fpu->last_cpu == -1 after fpu_force_restore(): the next return to user space reloads from
    /// memory. Set by ptrace SET.</summary>
    public bool RegistersInvalidated { get; set; }

    public UabiTask Clone() => new(Fpstate.Clone(), Pkru) { RegistersInvalidated = RegistersInvalidated };

    /// <summary>init_pkru_value: all keys access-disabled except key 0 (arch/x86/mm/pkeys.c PKRU_AD_ALL &amp; ~key 0).</summary>
    public const uint InitPkruValue = 0x55555554;
}
