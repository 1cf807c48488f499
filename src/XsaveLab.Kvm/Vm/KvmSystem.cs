namespace XsaveLab.Kvm.Vm;

/// <summary>A VMM process with /dev/kvm open, on the kernel model: a <see cref="LinuxKernel"/> booted for the
/// settings, the VMM's thread (<see cref="Task"/>) running on CPU 0 where its vCPUs run, and the system ioctls.</summary>
public sealed class KvmSystem
{
    /// <summary>Boots the model for <paramref name="settings"/>. A CPU whose leaf 0xD breaks <see cref="KvmLimits"/>
    /// is refused before anything is allocated from it (callers check <see cref="KvmLimits.Problem"/> on input).</summary>
    public KvmSystem(KvmSettings settings)
        : this(settings, Checked(settings), null)
    {
    }

    /// <summary>A new VMM process on an already booted host configuration (<paramref name="host"/> and
    /// <paramref name="caps"/> are read-only after boot, so many processes may share them; <paramref name="caps"/>
    /// null derives them). The caller guarantees <paramref name="host"/> was booted for <paramref name="settings"/>.</summary>
    public KvmSystem(KvmSettings settings, HostFpuConfig host, KvmCaps? caps)
    {
        if (!ReferenceEquals(host.Cpu, settings.Cpu) || !ReferenceEquals(host.Variant, settings.Kernel)
            || host.System.Options.UserShadowStack != settings.UserShadowStack)
            throw new ArgumentException("the host configuration was booted for other settings", nameof(host));
        Settings = settings;
        Host = host;
        Caps = caps ?? KvmCaps.Create(Host, settings.Release, settings.Flavour);
        Kernel = new LinuxKernel(Host.System, cpuCount: 1);
        Task = Kernel.SpawnProcess("vmm");
        Kernel.Schedule(0, Task);
    }

    private static HostFpuConfig Checked(KvmSettings settings)
    {
        if (KvmLimits.Problem(settings.Cpu) is { } problem)
            throw new ArgumentException($"CPU '{settings.Cpu.Name}': {problem}", nameof(settings));
        return HostFpuConfig.Boot(settings.Cpu, settings.Kernel, settings.UserShadowStack);
    }

    public KvmSettings Settings { get; }
    public HostFpuConfig Host { get; }
    public KvmCaps Caps { get; }
    /// <summary>The host kernel the VMM runs on.</summary>
    public LinuxKernel Kernel { get; private set; }

    /// <summary>The VMM's vCPU thread (leader of its process): its permissions lock at the first vCPU.</summary>
    public KernelTask Task { get; private set; }

    /// <summary>The CPU the vCPU thread runs on.</summary>
    public XsaveCpu Cpu => Kernel.Cpus[0].Cpu;

    /// <summary><c>xstate_get_guest_group_perm()</c>: what KVM filters supported XCR0 with.</summary>
    public ulong GuestGroupPerm => Kernel.GroupPerm(Task, guest: true);

    /// <summary><c>arch_prctl(option, arg)</c> on the kernel model; GET options return the mask as the value.</summary>
    public SysResult ArchPrctl(int option, ulong arg) => ArchPrctl(Task, option, arg);

    /// <summary><c>arch_prctl(option, arg)</c> made by <paramref name="task"/> (a task of this kernel).</summary>
    public SysResult ArchPrctl(KernelTask task, int option, ulong arg)
    {
        // ARCH_SHSTK_* on a 64-bit kernel: shstk_prctl()'s own account (ARCH_SHSTK_STATUS: thread.features).
        if (option is >= XsaveLab.Kernel.Tasks.ArchPrctl.ShstkEnable and <= XsaveLab.Kernel.Tasks.ArchPrctl.ShstkStatus && Kernel.System.Options.X86_64)
        {
            var s = Kernel.ShstkPrctl(task, option, arg, out ulong features);
            return s.Ok && option == XsaveLab.Kernel.Tasks.ArchPrctl.ShstkStatus
                ? SysResult.Success((long)features, XsaveLab.Kernel.Tasks.ArchPrctl.DescribeShstkFeatures(features))
                : s;
        }
        long r = Kernel.ArchPrctlCall(task, option, arg, out ulong v);
        if (r < 0)
            return SysResult.Fail(ErrnoNames.Of(r), ErrnoNames.Result(r));
        if (option is XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm or XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompPerm)
        {
            var p = option == XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm ? task.Leader.Fpu.GuestPerm : task.Leader.Fpu.Perm;
            return SysResult.Success(0, $"{(option == XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm ? "guest_perm" : "perm")} = 0x{p.StatePerm:x}, size {Numbers.Int(p.StateSize)}");
        }
        return SysResult.Success((long)v, XFeatureTable.Describe(v));
    }

    /// <summary>KVM_CHECK_EXTENSION on /dev/kvm or a VM fd (same answers for these capabilities).</summary>
    public SysResult CheckExtension(int cap) => cap switch
    {
        KvmAbi.CapXsave or KvmAbi.CapXcrs => SysResult.Success(Host.XsaveEnabled ? 1 : 0),
        KvmAbi.CapXsave2 => SysResult.Success(Caps.Xsave2Size(GuestGroupPerm), "max(xstate_required_size(filtered XCR0), 4096)"),
        KvmAbi.CapOneReg => Caps.Release.HasOneReg()
            ? SysResult.Success(1, "kvm_vm_ioctl_check_extension(): KVM_CAP_ONE_REG (6.18)")
            : SysResult.Success(0, "no KVM_CAP_ONE_REG on x86 before 6.18"),
        _ => SysResult.Success(0, "capability not modelled"),
    };

    /// <summary>KVM_GET_SUPPORTED_CPUID (XSAVE-relevant entries), filtered by the caller's guest permission now.</summary>
    public IReadOnlyList<CpuidEntry> GetSupportedCpuid() => SupportedCpuid.Compute(Caps, GuestGroupPerm);

    /// <summary>KVM_GET_DEVICE_ATTR on /dev/kvm.</summary>
    public SysResult GetDeviceAttr(uint group, ulong attr) =>
        group == 0 && attr == KvmAbi.XcompGuestSupp
            ? SysResult.Success((long)Caps.XcompGuestSupp, "kvm_caps.supported_xcr0")
            : SysResult.Fail(Errno.ENXIO, "attribute not supported");

    public IReadOnlyList<uint> GetMsrIndexList() => Caps.MsrsToSave();

    private int _vms;

    /// <summary>The copy of <paramref name="o"/> within the copy <paramref name="map"/> is building: the kernel
    /// copied (<see cref="LinuxKernel.Clone(CloneMap)"/>), settings, host configuration and caps shared (read-only
    /// after boot). Value fields are copied by <see cref="object.MemberwiseClone"/>.</summary>
    internal static KvmSystem Clone(KvmSystem o, CloneMap map)
    {
        var c = (KvmSystem)o.MemberwiseClone();
        map.Add(o, c);
        c.Kernel = o.Kernel.Clone(map);
        c.Task = map.Copied(o.Task);
        return c;
    }

    /// <summary>KVM_CREATE_VM.</summary>
    public KvmVm CreateVm() => new(this, _vms++);
}
