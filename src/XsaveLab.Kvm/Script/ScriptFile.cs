using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XsaveLab.Kvm.Script;

/// <summary>Reads a VMM script with bounded memory and time: only a regular file of at most
/// <see cref="ScriptText.MaxFileBytes"/>. Every problem is a <see cref="VmmScriptException"/> naming the file.</summary>
/// <remarks>On Linux the file is opened with O_NONBLOCK and its type taken with fstat() on the open descriptor
/// (open(2), fstat(2)): a FIFO would otherwise block open() until a writer appears, and a device such as /dev/zero
/// never ends. Checking the descriptor, not the name, leaves no window in which the file can be swapped.</remarks>
internal static class ScriptFile
{
    private const int ORdOnly = 0, ONoCtty = 0x100, ONonBlock = 0x800, OCloExec = 0x80000;
    private const int SIfMt = 0xF000, SIfReg = 0x8000, SIfDir = 0x4000, SIfChr = 0x2000, SIfBlk = 0x6000, SIfIfo = 0x1000, SIfSock = 0xC000;

    public static string ReadText(string path)
    {
        if (path.Length == 0 || path.Contains('\0'))
            throw new VmmScriptException(ScriptText.Excerpt(path), 0, "not a usable file name");
        using var handle = Open(path);
        // The size was checked on the descriptor, but a file may grow while it is read: read one byte past the
        // limit and refuse if it is there.
        var buffer = new byte[Math.Min(ScriptText.MaxFileBytes + 1, 64 << 10)];
        int total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length > ScriptText.MaxFileBytes)
                    throw TooLarge(path, null);
                Array.Resize(ref buffer, (int)Math.Min(ScriptText.MaxFileBytes + 1L, buffer.Length * 2L));
            }
            int n;
            try
            {
                n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                throw new VmmScriptException(path, 0, $"cannot read the file ({ScriptText.Excerpt(e.Message, 80)})");
            }
            if (n == 0)
                break;
            total += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static VmmScriptException TooLarge(string path, long? size) =>
        new(path, 0, $"the file is {(size is long s ? $"{s} bytes" : "larger than the limit")}; a VMM script is at most {ScriptText.MaxFileBytes} bytes (4 MiB)");

    private static SafeFileHandle Open(string path) =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64
            ? OpenLinux(path) : OpenPortable(path);

    private static SafeFileHandle OpenLinux(string path)
    {
        int fd = NativeOpen(path, ORdOnly | ONonBlock | OCloExec | ONoCtty);
        if (fd < 0)
            throw new VmmScriptException(path, 0, OpenError(Marshal.GetLastPInvokeError()));
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            // struct stat: st_mode at 24 on x86_64, 16 on arm64 (asm-generic); st_size at 48 on both.
            var st = new byte[256];
            if (NativeFstat(fd, st) != 0)
                throw new VmmScriptException(path, 0, $"cannot read the file ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
            int modeAt = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
            int type = (int)BinaryPrimitives.ReadUInt32LittleEndian(st.AsSpan(modeAt)) & SIfMt;
            if (type != SIfReg)
                throw new VmmScriptException(path, 0, $"is {Describe(type)}, not a regular file; a VMM script must be a regular file");
            long size = BinaryPrimitives.ReadInt64LittleEndian(st.AsSpan(48));
            if (size > ScriptText.MaxFileBytes)
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
            throw new VmmScriptException(path, 0, $"is {Describe(SIfDir)}, not a regular file; a VMM script must be a regular file");
        try
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long size = RandomAccess.GetLength(handle);
            if (size > ScriptText.MaxFileBytes)
            {
                handle.Dispose();
                throw TooLarge(path, size);
            }
            return handle;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new VmmScriptException(path, 0, "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new VmmScriptException(path, 0, $"cannot read the file ({ScriptText.Excerpt(e.Message, 80)})");
        }
    }

    private static string OpenError(int errno) => errno switch
    {
        2 or 20 => "file not found",
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
