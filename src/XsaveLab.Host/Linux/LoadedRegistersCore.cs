namespace XsaveLab.Host.Linux;

/// <summary>A core file written by the kernel for a child that loaded a seeded image and faulted.</summary>
public sealed record LoadedRegistersCoreDump(string CorePath, int Pid, WaitStatus Exit, ulong Seed);

/// <summary>Makes a core file of a child whose registers hold a <see cref="SeededXstateImage"/>.</summary>
/// <remarks>The child raises its own RLIMIT_CORE and changes into the target directory; the machine's
/// <c>/proc/sys/kernel/core_pattern</c> is read, never written. A pattern that pipes to a program or
/// names another directory makes the probe fail with the reason.</remarks>
public static class LoadedRegistersCore
{
    public const string CorePatternPath = "/proc/sys/kernel/core_pattern";

    /// <summary>Null when core files from a child can land in its working directory; else why not.</summary>
    public static string? CannotDumpReason()
    {
        if (!File.Exists(CorePatternPath))
            return $"{CorePatternPath} missing";
        string pattern = File.ReadAllText(CorePatternPath).Trim();
        if (pattern.StartsWith('|'))
            return $"core_pattern pipes cores to a program ({pattern})";
        if (pattern.Contains('/'))
            return $"core_pattern writes cores elsewhere ({pattern})";
        return null;
    }

    public static LoadedRegistersCoreDump Produce(ChildLauncher launcher, ulong seed, string directory, TimeSpan? timeout = null)
    {
        if (CannotDumpReason() is { } why)
            throw new HostProbeException(why);
        string dir = Path.GetFullPath(directory);
        var before = Directory.GetFiles(dir, "core*").ToHashSet();
        var args = launcher.Arguments(ChildMode.Argument, ChildMode.LoadCore, dir, seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (pid, err) = NativeSpawn.Spawn(launcher.Executable, args);
        if (pid < 0)
            throw new HostProbeException($"posix_spawn {launcher.Executable}: {ErrnoNames.Name(err)}");
        var st = NativeSpawn.WaitFor(pid, timeout ?? TimeSpan.FromSeconds(120));
        if (st is null || st.Value.Stopped)
        {
            NativeSpawn.KillAndReap(pid);
            throw new HostProbeException($"core child {pid} did not finish ({st?.ToString() ?? "timeout"})");
        }
        if (!st.Value.CoreDumped)
            throw new HostProbeException($"core child {pid} {st.Value}, no core dumped");
        var created = Directory.GetFiles(dir, "core*").Where(f => !before.Contains(f)).ToList();
        string? core = created.FirstOrDefault(f => Path.GetFileName(f) == $"core.{pid}") ?? created.FirstOrDefault();
        if (core is null)
            throw new HostProbeException($"core child {pid} dumped core but no core file appeared in {dir}");
        return new LoadedRegistersCoreDump(core, pid, st.Value, seed);
    }
}
