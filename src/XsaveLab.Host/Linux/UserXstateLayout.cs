namespace XsaveLab.Host.Linux;

/// <summary>Where each user xstate component lives in the standard (non-compacted) format on this
/// host, as the kernel's UABI buffers (ptrace NT_X86_XSTATE, core notes, KVM_GET_XSAVE) use it.</summary>
/// <remarks>Offsets and sizes: CPUID(0xD, i).EBX/EAX (SDM Vol.1 §13.4.1); x87 and SSE are the fixed legacy
/// region. <see cref="Size"/> is the kernel's <c>fpu_user_cfg.max_size</c>: the standard-format size of
/// the user features, i.e. the end of the highest one (<c>xstate_calculate_size(.., false)</c>).</remarks>
public sealed class UserXstateLayout
{
    private readonly (int Offset, int Size)[] _components = new (int, int)[64];

    public UserXstateLayout(ulong features, Func<int, (int Offset, int Size)> component)
    {
        Features = features;
        int end = XsaveOffsets.ExtendedStart;
        for (int i = 0; i < 64; i++)
        {
            if ((features >> i & 1) == 0)
                continue;
            _components[i] = i switch { 0 => (0, XsaveOffsets.X87Size), 1 => (XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize), _ => component(i) };
            if (i >= 2)
                end = Math.Max(end, _components[i].Offset + _components[i].Size);
        }
        Size = end;
    }

    /// <summary>User features (XCR0 as the kernel exposes it to user space).</summary>
    public ulong Features { get; }

    /// <summary>Standard-format size of <see cref="Features"/>.</summary>
    public int Size { get; }

    public bool Has(int feature) => (uint)feature < 64 && (Features >> feature & 1) != 0;

    public (int Offset, int Size) Component(int feature) =>
        Has(feature) ? _components[feature] : throw new ArgumentOutOfRangeException(nameof(feature), $"feature {feature} not in 0x{Features:x}");

    /// <summary>The running host: features from ARCH_GET_XCOMP_SUPP (falling back to CPUID(0xD,0)
    /// EDX:EAX &amp; USER_SUPPORTED when the syscall is unavailable), geometry from CPUID leaf 0xD.</summary>
    public static UserXstateLayout FromHost()
    {
        var supp = LiveArchPrctl.GetSupported();
        ulong features = supp.Ok ? supp.Value : HostCpuidXcr0() & XFeatureMasks.UserSupported;
        return new UserXstateLayout(features, i =>
        {
            var (a, b, _, _) = X86Base.CpuId(0xD, i);
            return (b, a);
        });
    }

    /// <summary>CPUID(0xD,0) EDX:EAX — the XCR0 bits the processor supports.</summary>
    public static ulong HostCpuidXcr0()
    {
        var (a, _, _, d) = X86Base.CpuId(0xD, 0);
        return (uint)a | (ulong)(uint)d << 32;
    }
}
