namespace XsaveLab.Host.Linux;

/// <summary>What a child process observed when it issued ARCH_REQ_XCOMP_(GUEST_)PERM for a list of
/// feature numbers, in order, with the matching GET value before and after.</summary>
public sealed record XcompRequestReport(int Option, XcompResult Before, IReadOnlyList<(long Feature, XcompResult Result)> Requests, XcompResult After, WaitStatus Exit);

/// <summary>Runs the permission requests of <see cref="LiveArchPrctl"/> in a child process, so this process's
/// permissions never change (a successful request cannot be undone).</summary>
public static class XcompRequestProbe
{
    public static XcompRequestReport Run(ChildLauncher launcher, int option, IEnumerable<long> features, TimeSpan? timeout = null)
    {
        if (option is not (ArchPrctl.ReqXcompPerm or ArchPrctl.ReqXcompGuestPerm))
            throw new ArgumentOutOfRangeException(nameof(option), "expected ARCH_REQ_XCOMP_PERM or ARCH_REQ_XCOMP_GUEST_PERM");
        string dir = Directory.CreateTempSubdirectory("xsavelab-xcomp-").FullName;
        string file = Path.Combine(dir, "result.txt");
        try
        {
            var args = launcher.Arguments(ChildMode.Argument, ChildMode.XcompRequest, file,
                $"0x{option:x}", string.Join(',', features.Select(f => f.ToString(CultureInfo.InvariantCulture))));
            var (pid, err) = NativeSpawn.Spawn(launcher.Executable, args);
            if (pid < 0)
                throw new HostProbeException($"posix_spawn {launcher.Executable}: {ErrnoNames.Name(err)}");
            var status = NativeSpawn.WaitFor(pid, timeout ?? TimeSpan.FromSeconds(60));
            if (status is null || !(status.Value.Exited || status.Value.Signaled))
            {
                NativeSpawn.KillAndReap(pid);
                throw new HostProbeException($"arch_prctl child {pid} did not finish ({status?.ToString() ?? "timeout"})");
            }
            if (!status.Value.Exited || status.Value.ExitCode != 0 || !File.Exists(file))
                throw new HostProbeException($"arch_prctl child {status.Value}");
            return Parse(option, File.ReadAllLines(file), status.Value);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static XcompRequestReport Parse(int option, string[] lines, WaitStatus exit)
    {
        XcompResult before = default, after = default;
        var reqs = new List<(long, XcompResult)>();
        foreach (var line in lines)
        {
            var p = line.Split(' ');
            long L(int i) => long.Parse(p[i], CultureInfo.InvariantCulture);
            switch (p[0])
            {
                case "before": before = XcompResult.From(L(1), (int)L(2), ulong.Parse(p[3], CultureInfo.InvariantCulture)); break;
                case "after": after = XcompResult.From(L(1), (int)L(2), ulong.Parse(p[3], CultureInfo.InvariantCulture)); break;
                case "req": reqs.Add((L(1), XcompResult.From(L(2), (int)L(3), 0))); break;
            }
        }
        return new XcompRequestReport(option, before, reqs, after, exit);
    }
}
