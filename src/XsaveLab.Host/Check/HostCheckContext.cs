namespace XsaveLab.Host.Check;

/// <summary>Options of a <c>host check</c> run.</summary>
/// <param name="Launcher">How to start the probe child (ptrace, core and arch_prctl request checks); null: the
/// <c>XsaveLab.Host.Child</c> assembly next to this program if present, else those checks are skipped.</param>
/// <param name="SeededCases">Model-written SETREGSET images compared with the kernel's read-back.</param>
/// <param name="Providers">Check providers to run; null = <see cref="HostCheck.DefaultProviders"/>.
/// The KVM checks plug in here.</param>
public sealed record HostCheckOptions(ChildLauncher? Launcher = null, int SeededCases = 200, IReadOnlyList<IHostCheckProvider>? Providers = null);

/// <summary>A group of observables (boot log, arch_prctl, ptrace, core dump, KVM …).</summary>
public interface IHostCheckProvider
{
    string Name { get; }

    IEnumerable<Observable> Run(HostCheckContext context);
}

/// <summary>What every provider compares against: this machine's CPUID booted through the model.</summary>
public sealed class HostCheckContext
{
    private HostCheckContext(CpuProfile cpu, FpuSystem system, HostKernelConfig config, HostCheckOptions options, ChildLauncher? launcher, string launcherReason)
    {
        KernelConfig = config;
        Cpu = cpu;
        System = system;
        Options = options;
        Launcher = launcher;
        LauncherUnavailableReason = launcherReason;
    }

    public CpuProfile Cpu { get; }

    /// <summary>The model booted with this machine's CPUID (the 6.17+ rules the running kernel follows).</summary>
    public FpuSystem System { get; }

    public HostCheckOptions Options { get; }

    /// <summary>The running kernel's build options the model is booted with.</summary>
    public HostKernelConfig KernelConfig { get; }

    public ChildLauncher? Launcher { get; }

    public string LauncherUnavailableReason { get; }

    /// <summary>Builds the context, or returns the reason nothing can be checked (not Linux/x86-64, no CPUID).</summary>
    public static HostCheckContext? Create(HostCheckOptions options, out string reason)
    {
        if (!OperatingSystem.IsLinux())
        {
            reason = "host check compares with the running Linux kernel; this is not Linux";
            return null;
        }
        if (!HostCpu.TryRead(out var cpu, out reason) || cpu is null)
            return null;
        var config = HostKernelConfig.Read();
        var sys = FpuSystem.Boot(cpu, KernelVariants.V6_17, BootOptions.Default with { Ia32Emulation = config.Ia32Emulation });
        var launcher = options.Launcher;
        string why = "";
        if (launcher is null)
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "XsaveLab.Host.Child.dll");
            if (File.Exists(dll))
                launcher = ChildLauncher.ForAssembly(dll);
            else
                why = $"no probe child: {dll} is absent and no launcher was given";
        }
        reason = "";
        return new HostCheckContext(cpu, sys, config, options, launcher, why);
    }

    /// <summary>The UABI configuration of the booted model with a given hardware MXCSR_MASK (FXSAVE's
    /// MXCSR_MASK is a property of the CPU that CPUID does not report; the ptrace checks read it from the
    /// child's own FXSAVE image and use it as an input).</summary>
    public UabiConfig Uabi(uint hardwareMxcsrMask) => UabiConfig.FromSystem(System, hardwareMxcsrMask, KernelConfig.UserShadowStack);
}
