using System.Buffers.Binary;
using XsaveLab.Arch.Features;
using XsaveLab.Arch.Layout;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Kvm.Kernel;

/// <summary>Conversions between a kernel fpstate (compacted) and the standard-format UABI buffer KVM_GET/SET_XSAVE use.</summary>
/// <remarks><c>__copy_xstate_to_uabi_buf()</c> and <c>copy_uabi_to_xstate()</c> (arch/x86/kernel/fpu/xstate.c,
/// linux-fpu.md §8.1–8.2).</remarks>
public static class UabiCopy
{
    private const int MxcsrOffset = 24;
    private const int SwReservedOffset = 464;

    /// <summary>XSTATE_COPY_XSAVE mode. <paramref name="mxcsrMask"/> is init_fpstate's MXCSR_MASK (captured by
    /// FXSAVE at boot: a property of the processor, not of CPUID).</summary>
    public static void ToUabi(HostFpuConfig cfg, FpState fps, Span<byte> to, ulong xfeatures, uint pkru, uint mxcsrMask)
    {
        to.Clear();
        ReadOnlySpan<byte> src = fps.Regs;
        ulong hdr = fps.XstateBv & fps.UserXfeatures & xfeatures;

        // Legacy area: from the fpstate where the header has the feature, else from init_fpstate.
        if ((hdr & XFeatureMasks.Fp) != 0)
            src[..MxcsrOffset].CopyTo(to);
        else
            BinaryPrimitives.WriteUInt16LittleEndian(to, 0x37F);
        if ((hdr & (XFeatureMasks.Sse | XFeatureMasks.Ymm)) != 0)
            src.Slice(MxcsrOffset, 8).CopyTo(to[MxcsrOffset..]);
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(to[MxcsrOffset..], 0x1F80);
            BinaryPrimitives.WriteUInt32LittleEndian(to[(MxcsrOffset + 4)..], mxcsrMask);
        }
        if ((hdr & XFeatureMasks.Fp) != 0)
            src.Slice(32, 128).CopyTo(to[32..]);
        if ((hdr & XFeatureMasks.Sse) != 0)
            src.Slice(160, 256).CopyTo(to[160..]);

        BinaryPrimitives.WriteUInt64LittleEndian(to[SwReservedOffset..], cfg.UserMaxFeatures);
        BinaryPrimitives.WriteUInt64LittleEndian(to[512..], hdr);

        ulong mask = fps.UserXfeatures & xfeatures & XFeatureMasks.Extend;
        for (int i = 2; i < 64; i++)
        {
            if ((mask >> i & 1) == 0 || cfg.Cpu.Component(i) is not { StandardOffset: int off } c)
                continue;
            if (off + c.Size > to.Length)
                continue;
            if (i == (int)XFeature.Pkru)
                BinaryPrimitives.WriteUInt32LittleEndian(to[off..], pkru);
            else if ((hdr >> i & 1) != 0)
            {
                int koff = XStateGeometry.Offset(cfg.Cpu, fps.XcompBv, i, cfg.Compacted);
                src.Slice(koff, c.Size).CopyTo(to[off..]);
            }
        }
    }

    /// <summary><c>copy_uabi_to_xstate(fps, kbuf, NULL, pkru)</c>; <paramref name="setPkru"/> false = KVM's NULL pointer.</summary>
    public static SysResult FromUabi(HostFpuConfig cfg, FpState fps, ReadOnlySpan<byte> from, ref uint pkru, bool setPkru, uint mxcsrMask)
    {
        ulong hdr = BinaryPrimitives.ReadUInt64LittleEndian(from[512..]);
        ulong xcomp = BinaryPrimitives.ReadUInt64LittleEndian(from[520..]);
        if ((hdr & ~fps.UserXfeatures) != 0)
            return SysResult.Fail(Errno.EINVAL, $"validate_user_xstate_header: xfeatures 0x{hdr:x} not within user_xfeatures 0x{fps.UserXfeatures:x}");
        if (xcomp != 0)
            return SysResult.Fail(Errno.EINVAL, $"validate_user_xstate_header: xcomp_bv 0x{xcomp:x} != 0 (UABI is standard format)");
        for (int b = 528; b < 576; b++)
            if (from[b] != 0)
                return SysResult.Fail(Errno.EINVAL, $"validate_user_xstate_header: reserved header byte {b} = 0x{from[b]:x2}");

        if ((hdr & (XFeatureMasks.FpSse | XFeatureMasks.Ymm)) != 0)
        {
            uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(from[MxcsrOffset..]);
            if ((mxcsr & ~mxcsrMask) != 0)
                return SysResult.Fail(Errno.EINVAL, $"MXCSR 0x{mxcsr:x} has bits outside mxcsr_feature_mask 0x{mxcsrMask:x}");
            if ((hdr & XFeatureMasks.Fp) == 0)
                from.Slice(MxcsrOffset, 8).CopyTo(fps.Regs.AsSpan(MxcsrOffset));
        }
        for (int i = 0; i < XFeatureTable.Count; i++)
        {
            if ((hdr >> i & 1) == 0 || cfg.Cpu.Component(i) is not { StandardOffset: int off } c)
                continue;
            int koff = i <= 1 ? off : XStateGeometry.Offset(cfg.Cpu, fps.XcompBv, i, cfg.Compacted);
            from.Slice(off, c.Size).CopyTo(fps.Regs.AsSpan(koff));
        }
        if ((hdr & XFeatureMasks.Pkru) != 0 && cfg.Cpu.Component((int)XFeature.Pkru) is { StandardOffset: int po })
            pkru = BinaryPrimitives.ReadUInt32LittleEndian(from[po..]);
        else if (setPkru)
            pkru = 0;
        const ulong supervisorAll = XFeatureMasks.Pt | XFeatureMasks.Pasid | XFeatureMasks.CetUser | XFeatureMasks.CetKernel | XFeatureMasks.Lbr;
        fps.XstateBv = (fps.XstateBv & supervisorAll) | hdr;
        return SysResult.Success();
    }
}
