namespace XsaveLab.Kvm.Guest;

/// <summary>The host kernel's boot-time FPU configuration as KVM consumes it, taken from a booted
/// <see cref="FpuSystem"/>: <c>fpu_kernel_cfg</c>, <c>fpu_user_cfg</c>, <c>guest_default_cfg</c>, XCR0, IA32_XSS.</summary>
public sealed record HostFpuConfig(
    FpuSystem System,
    bool XsaveEnabled,
    bool Compacted,
    ulong KernelMaxFeatures,
    int KernelMaxSize,
    ulong KernelDefaultFeatures,
    int KernelDefaultSize,
    ulong UserMaxFeatures,
    int UserMaxSize,
    ulong UserDefaultFeatures,
    int UserDefaultSize,
    ulong GuestDefaultFeatures,
    int GuestDefaultSize)
{
    public CpuProfile Cpu => System.Profile;
    public KernelVariant Variant => System.Variant;

    /// <summary>XFEATURE_MASK_GUEST_SUPERVISOR of the variant (CET_KERNEL in 6.17; 0 where the notion is absent).</summary>
    public ulong GuestSupervisorMask => Variant.GuestSupervisorMask;

    /// <summary>XCR0 the kernel programs (<c>fpu_user_cfg.max_features</c>); KVM reads it as <c>host_xcr0</c>.</summary>
    public ulong Xcr0 => System.Xcr0;

    /// <summary>IA32_XSS the kernel programs; KVM's <c>host_xss</c>.</summary>
    public ulong Xss => System.Xss;

    /// <summary><c>init_fpstate.xfd</c>.</summary>
    public ulong InitXfd => System.InitXfd;

    /// <summary>Boots the kernel model and takes its configuration.</summary>
    /// <remarks><c>userShadowStack</c>: CONFIG_X86_USER_SHADOW_STACK (<see cref="BootOptions.UserShadowStack"/>).</remarks>
    public static HostFpuConfig Boot(CpuProfile cpu, KernelVariant variant, bool userShadowStack = false)
    {
        var sys = FpuSystem.Boot(cpu, variant, BootOptions.Default with { UserShadowStack = userShadowStack });
        var k = sys.KernelCfg;
        var u = sys.UserCfg;
        var g = sys.GuestDefaultCfg;
        return new HostFpuConfig(sys, sys.XsaveEnabled, sys.Compacted,
            k.MaxFeatures, k.MaxSize, k.DefaultFeatures, k.DefaultSize,
            u.MaxFeatures, u.MaxSize, u.DefaultFeatures, u.DefaultSize, g.Features, g.Size);
    }

    /// <summary><c>xstate_calculate_size()</c> for this host.</summary>
    public int CalculateSize(ulong xfeatures, bool compacted) =>
        XsaveEnabled ? System.CalculateSize(xfeatures, compacted) : System.LegacySize;
}
