namespace XsaveLab.Host.Tests.Linux;

/// <summary>What the tests derive their expectations from: this machine's CPUID and syscalls.</summary>
internal static class HostFacts
{
    public static bool IsLinuxX64 => OperatingSystem.IsLinux() && X86Base.X64.IsSupported;

    public static bool HasXsave => IsLinuxX64 && (X86Base.CpuId(1, 0).Ecx >> 26 & 1) != 0 && X86Base.CpuId(0, 0).Eax >= 0xD;

    /// <summary>CPUID(0xD,0) EDX:EAX restricted to the features Linux exposes to user space.</summary>
    public static ulong CpuidUserXcr0 => UserXstateLayout.HostCpuidXcr0() & XFeatureMasks.UserSupported;

    /// <summary>CPUID(0xD,0).EBX: the XSAVE area size for the features enabled in XCR0.</summary>
    public static int CpuidEnabledSize => X86Base.CpuId(0xD, 0).Ebx;

    public static void SkipUnlessXsaveLinux()
    {
        Skip.IfNot(IsLinuxX64, "needs Linux on x86-64");
        Skip.IfNot(HasXsave, "the CPU does not enumerate XSAVE (CPUID.1:ECX[26]) and leaf 0xD");
    }

    /// <summary>The probe child next to the test assembly, or a skip with the reason.</summary>
    public static ChildLauncher ChildLauncher()
    {
        SkipUnlessXsaveLinux();
        string dll = Path.Combine(AppContext.BaseDirectory, "XsaveLab.Host.Child.dll");
        Skip.IfNot(File.Exists(dll), $"probe child not built next to the tests ({dll})");
        return XsaveLab.Host.Linux.ChildLauncher.ForAssembly(dll);
    }

    /// <summary>Can this process trace its children? (ptrace may be forbidden by a seccomp profile or
    /// Yama; the reason is taken from the failed attach.)</summary>
    public static string? CannotTraceReason()
    {
        try
        {
            using var c = TracedChild.Spawn("/bin/sleep", ["30"]);
            return null;
        }
        catch (HostProbeException e)
        {
            return e.Message;
        }
    }
}
