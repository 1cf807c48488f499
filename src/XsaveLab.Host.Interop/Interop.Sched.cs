namespace XsaveLab.Host.Interop;

/// <summary>sched_setaffinity(2), sched_getaffinity(2) and sched_getcpu(3). pid 0 = the calling thread
/// (Linux affinity is per thread).</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Library, SetLastError = true)]
    public static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int sched_getaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int sched_getcpu();
}
