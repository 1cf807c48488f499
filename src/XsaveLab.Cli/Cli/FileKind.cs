namespace XsaveLab.Cli.Cli;

/// <summary>What a path names, from <c>lstat(2)</c> (the link itself, not its target). .NET shows devices, FIFOs and
/// sockets as plain files, which is why the type bits are read here.</summary>
public enum FileKind
{
    Missing,
    Regular,
    Directory,
    SymbolicLink,

    /// <summary>A character or block device, a FIFO or a socket.</summary>
    Special,
}

public static class FileKinds
{
    // st_mode's file-type field (S_IFMT and its values, <sys/stat.h>).
    private const uint SIfmt = 0xF000, SIfreg = 0x8000, SIfdir = 0x4000, SIflnk = 0xA000;

    public static FileKind Of(string path)
    {
        if (!OperatingSystem.IsLinux())
            return Portable(path);
        var buf = new byte[256];
        if (LStat(path, buf) != 0)
            return Marshal.GetLastPInvokeError() == 2 /* ENOENT */ ? FileKind.Missing : Portable(path);
        // struct stat (glibc): st_mode follows st_dev, st_ino and st_nlink on x86-64; st_dev and st_ino elsewhere.
        int modeOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
        uint type = BitConverter.ToUInt32(buf, modeOffset) & SIfmt;
        return type switch
        {
            SIfreg => FileKind.Regular,
            SIfdir => FileKind.Directory,
            SIflnk => FileKind.SymbolicLink,
            _ => FileKind.Special,
        };
    }

    private static FileKind Portable(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
            return FileKind.SymbolicLink;
        if (Directory.Exists(path))
            return FileKind.Directory;
        return info.Exists ? FileKind.Regular : FileKind.Missing;
    }

    [DllImport("libc", EntryPoint = "lstat", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int LStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] buf);
}
