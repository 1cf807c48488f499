namespace XsaveLab.Host.Check;

/// <summary>Build options of the running kernel that change user-visible sizes, read from
/// <c>/proc/config.gz</c> (CONFIG_IKCONFIG_PROC) when the kernel provides it.</summary>
public sealed record HostKernelConfig(bool Ia32Emulation, bool UserShadowStack, string Source)
{
    public const string Path = "/proc/config.gz";

    /// <summary>The options, or the kernel defaults (IA32 emulation on, as x86-64 defconfig has it) with the
    /// reason they could not be read.</summary>
    public static HostKernelConfig Read()
    {
        try
        {
            using var gz = new GZipStream(File.OpenRead(Path), CompressionMode.Decompress);
            using var reader = new StreamReader(gz);
            bool ia32 = false, shstk = false;
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                if (line == "CONFIG_IA32_EMULATION=y")
                    ia32 = true;
                else if (line == "CONFIG_X86_USER_SHADOW_STACK=y")
                    shstk = true;
            }
            return new HostKernelConfig(ia32, shstk, $"{Path}: CONFIG_IA32_EMULATION={(ia32 ? "y" : "n")}, CONFIG_X86_USER_SHADOW_STACK={(shstk ? "y" : "n")}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return new HostKernelConfig(true, false, $"{Path} unreadable ({e.Message}); CONFIG_IA32_EMULATION=y, CONFIG_X86_USER_SHADOW_STACK=n assumed");
        }
    }
}
