namespace XsaveLab.Host.Tests.Linux;

/// <summary>The .NET children of the probes leave nothing in the temporary folder, even when they are killed:
/// the runtime's diagnostic socket (<c>dotnet-diagnostic-PID-…-socket</c>) and debugger pipes
/// (<c>clr-debug-pipe-PID-in/out</c>) are only removed by a clean exit.</summary>
public sealed class CleanProbeTests
{
    private static IReadOnlyList<string> EntriesOf(int pid)
    {
        string p = pid.ToString(CultureInfo.InvariantCulture);
        return Directory.EnumerateFileSystemEntries(Path.GetTempPath())
            .Select(Path.GetFileName)
            .Where(n => n is not null && (n.StartsWith($"dotnet-diagnostic-{p}-", StringComparison.Ordinal) || n.StartsWith($"clr-debug-pipe-{p}-", StringComparison.Ordinal)))
            .Select(n => n!)
            .ToList();
    }

    [SkippableFact]
    public void A_killed_traced_child_and_a_core_dumping_child_leave_no_runtime_entries()
    {
        var launcher = HostFacts.ChildLauncher();
        string? why = HostFacts.CannotTraceReason();
        Skip.If(why is not null, why);
        int traced;
        using (var child = TracedChild.SpawnLoadedRegisters(launcher, 0x7E57))
            traced = child.Pid; // Dispose kills it with SIGKILL
        Assert.Empty(EntriesOf(traced));

        if (LoadedRegistersCore.CannotDumpReason() is null)
        {
            string dir = Directory.CreateTempSubdirectory("xsavelab-clean-").FullName;
            try
            {
                var dump = LoadedRegistersCore.Produce(launcher, 0x7E58, dir);
                Assert.Empty(EntriesOf(dump.Pid));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [SkippableFact]
    public void The_check_sees_the_entries_a_killed_child_with_diagnostics_on_leaves()
    {
        var launcher = HostFacts.ChildLauncher();
        var (pid, err) = NativeSpawn.Spawn(launcher.Executable, launcher.Arguments(ChildMode.Argument, ChildMode.LoadStop, "1"),
            new Dictionary<string, string?> { [ChildEnvironment.DiagnosticsVariable] = "1" });
        Assert.True(pid > 0, $"posix_spawn: error {err}");
        IReadOnlyList<string> left = [];
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (EntriesOf(pid).Count == 0 && DateTime.UtcNow < deadline)
                Thread.Sleep(20);
        }
        finally
        {
            NativeSpawn.KillAndReap(pid);
            left = EntriesOf(pid);
            foreach (var n in left)
                File.Delete(Path.Combine(Path.GetTempPath(), n));
        }
        Assert.NotEmpty(left);
    }
}
