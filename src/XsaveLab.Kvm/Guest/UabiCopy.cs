using XsaveLab.Kernel.Uabi;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Kvm.Guest;

/// <summary>The UABI conversions of the kernel model (<see cref="XstateUabi"/>) applied to a guest fpstate.</summary>
public static class UabiCopy
{
    /// <summary><c>__copy_xstate_to_uabi_buf(…, XSTATE_COPY_XSAVE)</c>; the whole buffer is written (KVM zero-allocates it).</summary>
    public static void ToUabi(HostFpuConfig cfg, FpState fps, Span<byte> to, ulong xfeatures, uint pkru)
    {
        to.Clear();
        XstateUabi.CopyXstateToUabiBuf(cfg.Uabi, View(fps), xfeatures, pkru, XstateCopyMode.Xsave, to);
    }

    /// <summary><c>copy_uabi_to_xstate(fps, kbuf, NULL, pkru)</c>; <paramref name="setPkru"/> false = KVM's NULL pointer.</summary>
    public static SysResult FromUabi(HostFpuConfig cfg, FpState fps, ReadOnlySpan<byte> from, ref uint pkru, bool setPkru)
    {
        var r = XstateUabi.CopyUabiToXstate(cfg.Uabi, View(fps), from, ref pkru, setPkru);
        return r.Success ? SysResult.Success() : SysResult.Fail((XsaveLab.Kvm.Vm.Errno)(int)r.Errno, r.Rule);
    }

    private static UabiFpState View(FpState fps) => new(fps.Regs, fps.Xfeatures, fps.UserXfeatures, fps.UserSize);
}
