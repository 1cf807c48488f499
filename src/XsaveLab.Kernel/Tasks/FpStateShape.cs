namespace XsaveLab.Kernel.Tasks;

/// <summary>The sizing fields of one <c>struct fpstate</c> (arch/x86/include/asm/fpu/types.h): size, user_size,
/// xfeatures, user_xfeatures, xfd and is_guest, as the FPU core sets them. <see cref="FpState"/> carries them
/// with its buffer; a scheduler that keeps its buffers elsewhere sizes them from the same values.</summary>
public readonly record struct FpStateShape(int Size, ulong Xfeatures, int UserSize, ulong UserXfeatures, ulong Xfd, bool IsGuest)
{
    /// <summary><c>__fpstate_reset(fpstate, xfd)</c> (arch/x86/kernel/fpu/core.c): a guest buffer from the
    /// variant's guest source (6.17: guest_default_cfg) with xfd 0, a host buffer from
    /// fpu_kernel_cfg.default_* with init_fpstate.xfd; the user size and features are always the defaults.</summary>
    public static FpStateShape Reset(FpuSystem sys, bool guest)
    {
        bool guestDefaults = guest && sys.Variant.GuestState == GuestStateSource.GuestDefaults;
        return new FpStateShape(
            guestDefaults ? sys.GuestDefaultCfg.Size : sys.KernelCfg.DefaultSize,
            guestDefaults ? sys.GuestDefaultCfg.Features : sys.KernelCfg.DefaultFeatures,
            sys.UserCfg.DefaultSize,
            sys.UserCfg.DefaultFeatures,
            guest ? 0 : sys.InitXfd,
            guest);
    }

    /// <summary><c>fpstate_realloc(xfeatures, ksize, usize, guest_fpu)</c> (arch/x86/kernel/fpu/xstate.c): the
    /// new buffer holds this one's features plus <paramref name="xfeatures"/>, of which the user ones become
    /// valid in UABI buffers; XFD no longer disables them.</summary>
    public FpStateShape Realloc(ulong xfeatures, int ksize, int usize) => this with
    {
        Size = ksize,
        UserSize = usize,
        Xfeatures = Xfeatures | xfeatures,
        UserXfeatures = UserXfeatures | (xfeatures & XFeatureMasks.UserSupported),
        Xfd = Xfd & ~xfeatures,
    };

    /// <summary>A reallocation to the full size of the features it ends with (<c>xstate_calculate_size()</c>),
    /// as a permission covering exactly those features gives.</summary>
    public FpStateShape Realloc(FpuSystem sys, ulong xfeatures) =>
        Realloc(xfeatures, sys.CalculateSize(Xfeatures | xfeatures, sys.Compacted), sys.CalculateSize((UserXfeatures | xfeatures) & XFeatureMasks.UserSupported, false));
}
