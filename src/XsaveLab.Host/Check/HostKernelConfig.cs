using System.IO.Compression;

namespace XsaveLab.Host.Check;

/// <summary>Build options of the running kernel that change user-visible sizes, read from
/// <c>/proc/config.gz</c> (CONFIG_IKCONFIG_PROC) when the kernel provides it.</summary>
public sealed record HostKernelConfig(bool Ia32Emulation, string Source)
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
            bool ia32 = false;
            string? line;
            while ((line = reader.ReadLine()) is not null)
                if (line == "CONFIG_IA32_EMULATION=y")
                    ia32 = true;
            return new HostKernelConfig(ia32, $"{Path}: CONFIG_IA32_EMULATION={(ia32 ? "y" : "n")}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return new HostKernelConfig(true, $"{Path} unreadable ({e.Message}); CONFIG_IA32_EMULATION=y assumed");
        }
    }
}
