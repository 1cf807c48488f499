using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XsaveLab.Arch.Cpuid;

/// <summary>Reads a dump file as text with bounded memory and time: only a regular file, at most
/// <see cref="CpuProfileLimits.MaxFileBytes"/>. Problems become <see cref="CpuProfileFormatException"/>.</summary>
/// <remarks>On Linux the file is opened with O_NONBLOCK and its type taken with fstat() on the open descriptor
/// (open(2), fstat(2)): a FIFO would otherwise block open() until a writer appears, and a device such as
/// /dev/zero never ends. Checking the descriptor rather than the name leaves no window in which the file can be
/// swapped. Elsewhere the .NET file API is used and the size bound still applies.</remarks>
internal static class DumpFile
{
    private const int ORdOnly = 0, ONoCtty = 0x100, ONonBlock = 0x800, OCloExec = 0x80000;
    private const int SIfMt = 0xF000, SIfReg = 0x8000, SIfDir = 0x4000, SIfChr = 0x2000, SIfBlk = 0x6000, SIfIfo = 0x1000, SIfSock = 0xC000;

    public static string ReadText(string path)
    {
        if (path.Length == 0)
            throw new CpuProfileFormatException(path, 0, "empty file name");
        if (path.Contains('\0'))
            throw new CpuProfileFormatException(path, 0, "the file name contains a NUL character");
        using var handle = Open(path);
        // The size was checked on the descriptor, but a file may grow while it is read: read one byte past the
        // limit and refuse if it is there.
        var buffer = new byte[Math.Min(CpuProfileLimits.MaxFileBytes + 1, 64 << 10)];
        int total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length > CpuProfileLimits.MaxFileBytes)
                    throw TooLarge(path, null);
                Array.Resize(ref buffer, (int)Math.Min(CpuProfileLimits.MaxFileBytes + 1L, buffer.Length * 2L));
            }
            int n;
            try
            {
                n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                throw new CpuProfileFormatException(path, 0, $"cannot read the file ({e.Message})");
            }
            if (n == 0)
                break;
            total += n;
        }
        // As File.ReadAllText: UTF-8 unless a byte-order mark says otherwise (dumps saved on Windows may carry one).
        using var reader = new StreamReader(new MemoryStream(buffer, 0, total), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static CpuProfileFormatException TooLarge(string path, long? size) =>
        new(path, 0, $"the file is {(size is long s ? $"{s} bytes" : "larger than the limit")}; a CPUID dump is at most {CpuProfileLimits.MaxFileBytes} bytes (4 MiB)");

    private static SafeFileHandle Open(string path)
    {
        bool linux = OperatingSystem.IsLinux()
            && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;
        return linux ? OpenLinux(path) : OpenPortable(path);
    }

    private static SafeFileHandle OpenLinux(string path)
    {
        int fd = NativeOpen(path, ORdOnly | ONonBlock | OCloExec | ONoCtty);
        if (fd < 0)
            throw new CpuProfileFormatException(path, 0, OpenError(Marshal.GetLastPInvokeError()));
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            // struct stat (asm-generic on arm64, x86_64's own): st_mode at 24 on x86_64, 16 on arm64; st_size at 48.
            var st = new byte[256];
            if (NativeFstat(fd, st) != 0)
                throw new CpuProfileFormatException(path, 0, $"cannot read the file ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
            int modeAt = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
            int type = (int)BinaryPrimitives.ReadUInt32LittleEndian(st.AsSpan(modeAt)) & SIfMt;
            if (type != SIfReg)
                throw new CpuProfileFormatException(path, 0, $"is {Describe(type)}, not a regular file; a CPUID dump must be a regular file");
            long size = BinaryPrimitives.ReadInt64LittleEndian(st.AsSpan(48));
            if (size > CpuProfileLimits.MaxFileBytes)
                throw TooLarge(path, size);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static SafeFileHandle OpenPortable(string path)
    {
        if (Directory.Exists(path))
            throw new CpuProfileFormatException(path, 0, $"is {Describe(SIfDir)}, not a regular file; a CPUID dump must be a regular file");
        try
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long size = RandomAccess.GetLength(handle);
            if (size > CpuProfileLimits.MaxFileBytes)
            {
                handle.Dispose();
                throw TooLarge(path, size);
            }
            return handle;
        }
        catch (FileNotFoundException)
        {
            throw new CpuProfileFormatException(path, 0, "file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new CpuProfileFormatException(path, 0, "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CpuProfileFormatException(path, 0, $"cannot read the file ({e.Message})");
        }
    }

    private static string OpenError(int errno) => errno switch
    {
        2 => "file not found",
        13 => "cannot read the file (permission denied)",
        36 => "the file name is too long",
        _ => $"cannot open the file ({Marshal.GetPInvokeErrorMessage(errno)})",
    };

    private static string Describe(int type) => type switch
    {
        SIfDir => "a directory",
        SIfChr => "a character device",
        SIfBlk => "a block device",
        SIfIfo => "a FIFO",
        SIfSock => "a socket",
        _ => "not a plain file",
    };

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int NativeOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static extern int NativeFstat(int fd, byte[] buf);
}
