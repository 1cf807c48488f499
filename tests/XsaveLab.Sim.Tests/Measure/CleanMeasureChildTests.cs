namespace XsaveLab.Sim.Tests.Measure;

/// <summary>The partner process of a process-mode measurement leaves nothing in the temporary folder: it runs with
/// the runtime's diagnostics off, so even when it is killed no <c>dotnet-diagnostic-PID-…</c> socket or
/// <c>clr-debug-pipe-PID-in/out</c> pipe remains.</summary>
[Collection(TimingCollection.Name)]
public class CleanMeasureChildTests
{
    [SkippableFact]
    public void The_partner_process_leaves_no_runtime_entries()
    {
        var o = new ContextSwitchOptions
        {
            Mode = PingPongMode.Processes,
            State = VectorState.Init,
            Runs = 2,
            RunDuration = TimeSpan.FromMilliseconds(200),
            Warmup = TimeSpan.FromMilliseconds(50),
        };
        var why = ContextSwitchMeter.Unavailable(o);
        Skip.If(why is not null, why);

        // The children are seen while they run: /proc/PID/stat field 4 is the parent's pid.
        var children = new HashSet<int>();
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (int pid in ChildrenOf(Environment.ProcessId))
                    lock (children)
                        children.Add(pid);
                Thread.Sleep(5);
            }
        });
        ContextSwitchMeter.Measure(o);
        stop.Cancel();
        watcher.GetAwaiter().GetResult();

        Assert.NotEmpty(children);
        foreach (int pid in children)
            Assert.Empty(RuntimeEntriesOf(pid));
    }

    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (rest.Length > 1 && int.TryParse(rest[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid) && ppid == parent)
                yield return pid;
        }
    }

    private static List<string> RuntimeEntriesOf(int pid)
    {
        string p = pid.ToString(CultureInfo.InvariantCulture);
        return Directory.EnumerateFileSystemEntries(Path.GetTempPath())
            .Select(e => Path.GetFileName(e))
            .Where(n => n.StartsWith($"dotnet-diagnostic-{p}-", StringComparison.Ordinal) || n.StartsWith($"clr-debug-pipe-{p}-", StringComparison.Ordinal))
            .ToList();
    }
}
