namespace XsaveLab.Host.Interop;

/// <summary>ptrace(2), waitpid(2), kill(2) and gettid(2) (include/uapi/linux/ptrace.h).</summary>
internal static unsafe partial class Libc
{
    public const int PtraceCont = 7;
    public const int PtraceDetach = 17;
    public const int PtraceSingleStep = 9;
    public const int PtraceGetRegset = 0x4204;
    public const int PtraceSetRegset = 0x4205;
    public const int PtraceSeize = 0x4206;
    public const int PtraceInterrupt = 0x4207;
    public const int PtraceOExitKill = 0x100000;

    public const int SigTrap = 5;
    public const int SigKill = 9;
    public const int SigStop = 19;

    public const int WNoHang = 1;
    public const int WAll = 0x40000000;

    [LibraryImport(Library, SetLastError = true)]
    public static partial long ptrace(long request, int pid, nint addr, nint data);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int gettid();

    /// <summary>struct iovec, as PTRACE_GETREGSET/SETREGSET take it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Iovec
    {
        public void* Base;
        public nuint Len;
    }
}
