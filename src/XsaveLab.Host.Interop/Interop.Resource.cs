namespace XsaveLab.Host.Interop;

/// <summary>getrlimit(2), setrlimit(2) and getrusage(2) (include/uapi/linux/resource.h).</summary>
internal static unsafe partial class Libc
{
    public const int RusageThread = 1;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int getrlimit(int resource, ulong* rlim);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int setrlimit(int resource, ulong* rlim);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int getrusage(int who, RUsage* usage);

    /// <summary>struct rusage (x86-64): two timevals, then fourteen longs ending with ru_nvcsw and ru_nivcsw.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RUsage
    {
        public long UtimeSec, UtimeUsec, StimeSec, StimeUsec;
        public long Maxrss, Ixrss, Idrss, Isrss, Minflt, Majflt, Nswap, Inblock, Oublock, Msgsnd, Msgrcv, Nsignals;
        public long Nvcsw, Nivcsw;
    }
}
