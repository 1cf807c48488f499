namespace XsaveLab.Host.Native;

/// <summary>Whether this process can execute XSAVE-family instructions through native stubs, and why not.</summary>
internal static class HostXsaveSupport
{
    /// <summary>Null when supported, otherwise a one-line reason.</summary>
    public static string? Check()
    {
        if (!OperatingSystem.IsLinux())
            return "not Linux (the stubs live in an mmap'd region)";
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !X86Base.IsSupported)
            return $"not x86-64 ({RuntimeInformation.ProcessArchitecture})";
        var (_, _, ecx, _) = X86Base.CpuId(1, 0);
        if ((ecx & (1 << 26)) == 0)
            return "the processor has no XSAVE (CPUID.1:ECX[26] = 0)";
        if ((ecx & (1 << 27)) == 0)
            return "the OS has not enabled XSAVE (CPUID.1:ECX[27] OSXSAVE = 0, CR4.OSXSAVE clear)";
        var (max, _, _, _) = X86Base.CpuId(0, 0);
        if (max < 0xD)
            return "the processor does not enumerate CPUID leaf 0xd";
        return null;
    }
}
