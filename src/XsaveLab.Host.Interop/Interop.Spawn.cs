namespace XsaveLab.Host.Interop;

/// <summary>posix_spawn(3) with its attribute and file-action objects, and the signal sets they take.
/// System.Diagnostics.Process is not used for probe children: the runtime reaps its own children on
/// SIGCHLD and would consume the ptrace stops and exit statuses the callers wait for.</summary>
internal static unsafe partial class Libc
{
    public const short PosixSpawnSetSigDef = 0x04;
    public const short PosixSpawnSetSigMask = 0x08;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawnattr_init(void* attr);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawnattr_setsigmask(void* attr, void* sigmask);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawnattr_setsigdefault(void* attr, void* sigdefault);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int sigemptyset(void* set);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int sigfillset(void* set);
}
