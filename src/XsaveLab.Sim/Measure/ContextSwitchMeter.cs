namespace XsaveLab.Sim.Measure;

/// <summary>Real context-switch throughput on this machine, measured like will-it-scale <c>context_switch1</c>:
/// two tasks pinned to one CPU pass one byte back and forth over two pipes; each round trip is two switches.</summary>
/// <remarks>The measuring side runs on its own thread (pinned with <c>sched_setaffinity</c>, so the caller's
/// affinity is untouched) and calls the native loop in chunks between clock reads; the partner is a thread
/// (threads mode) or a spawned child (processes mode) that answers until the measuring side closes its pipe.
/// Every fd is closed and every child reaped on all paths.</remarks>
public static class ContextSwitchMeter
{
    /// <summary>Name of the partner executable (project XsaveLab.Sim.PingPong) looked for next to this library.</summary>
    public const string PartnerName = "XsaveLab.Sim.PingPong";

    /// <summary>The CPUs this process may be pinned to (sched_getaffinity); empty when that cannot be read.</summary>
    public static IReadOnlyList<int> AllowedCpus() =>
        OperatingSystem.IsLinux() && System.Runtime.Intrinsics.X86.X86Base.X64.IsSupported ? Affinity.AllowedCpus() : [];

    /// <summary>Why a measurement cannot run here, or null.</summary>
    public static string? Unavailable(ContextSwitchOptions options)
    {
        if (!OperatingSystem.IsLinux() || !System.Runtime.Intrinsics.X86.X86Base.X64.IsSupported)
            return "needs Linux on x86-64";
        if (options.State != VectorState.AsIs)
        {
            using var engine = PingPongEngine.Create();
            if (!engine.Supports(options.State))
                return "vector state control needs XSAVE with AVX enabled (CR4.OSXSAVE, XCR0[2])";
        }
        if (options.Mode == PingPongMode.Processes && FindPartner(options.PartnerPath) is null)
            return $"partner executable {PartnerName} not found next to {typeof(ContextSwitchMeter).Assembly.GetName().Name}.dll";
        return null;
    }

    public static ContextSwitchMeasurement Measure(ContextSwitchOptions options, IProgress<double>? progress = null)
    {
        options.Validate();
        if (Unavailable(options) is { } why)
            throw new PlatformNotSupportedException(why);
        ContextSwitchMeasurement? result = null;
        Exception? failure = null;
        var t = new Thread(() =>
        {
            try { result = MeasureOnThisThread(options, progress); }
            catch (Exception e) { failure = e; }
        }, 1 << 20)
        { IsBackground = true, Name = "context-switch measuring side" };
        t.Start();
        t.Join();
        if (failure is not null)
            throw new InvalidOperationException($"context-switch measurement failed: {failure.Message}", failure);
        return result!;
    }

    /// <summary>Threads and processes, each with vector state <see cref="VectorState.Init"/> and <see cref="VectorState.Wide"/>
    /// (or <see cref="VectorState.AsIs"/> only, without XSAVE); modes that cannot run here are left out.</summary>
    public static IReadOnlyList<ContextSwitchMeasurement> MeasureMatrix(ContextSwitchOptions baseOptions, IProgress<double>? progress = null)
    {
        var plans = new List<ContextSwitchOptions>();
        foreach (var mode in new[] { PingPongMode.Threads, PingPongMode.Processes })
            foreach (var state in new[] { VectorState.Init, VectorState.Wide })
            {
                var o = baseOptions with { Mode = mode, State = state };
                if (Unavailable(o) is null)
                    plans.Add(o);
            }
        var results = new List<ContextSwitchMeasurement>();
        for (int i = 0; i < plans.Count; i++)
        {
            int k = i;
            results.Add(Measure(plans[i], progress is null ? null : new SyncProgress(f => progress.Report((k + f) / plans.Count))));
        }
        return results;
    }

    internal static string? FindPartner(string? explicitPath)
    {
        if (explicitPath is not null)
            return File.Exists(explicitPath) ? explicitPath : null;
        var dir = AppContext.BaseDirectory;
        var apphost = Path.Combine(dir, PartnerName);
        if (File.Exists(apphost))
            return apphost;
        var dll = Path.Combine(dir, PartnerName + ".dll");
        return File.Exists(dll) ? dll : null;
    }

    private static unsafe ContextSwitchMeasurement MeasureOnThisThread(ContextSwitchOptions o, IProgress<double>? progress)
    {
        var engine = PingPongEngine.Create();
        bool partnerStillRunning = false;
        int cpu = o.Cpu >= 0 ? o.Cpu : Affinity.AllowedCpus() is [var first, ..] ? first : 0;
        int pinErr = Affinity.PinCurrentThread(cpu);
        if (pinErr != 0)
            throw new InvalidOperationException($"sched_setaffinity(cpu {cpu}) failed: errno {pinErr}");

        var toPartner = Pipes.Open();
        (int Read, int Write) fromPartner;
        try { fromPartner = Pipes.Open(); }
        catch { Libc.close(toPartner.Read); Libc.close(toPartner.Write); throw; }

        int myRead = fromPartner.Read, myWrite = toPartner.Write;
        int theirRead = toPartner.Read, theirWrite = fromPartner.Write;
        Thread? partnerThread = null;
        ChildProcess? child = null;
        PingPongOutcome partnerOutcome = default;
        try
        {
            double budget = o.Warmup.TotalSeconds + o.Runs * o.RunDuration.TotalSeconds;
            if (o.Mode == PingPongMode.Threads)
            {
                partnerThread = new Thread(() =>
                {
                    Affinity.PinCurrentThread(cpu);
                    partnerOutcome = engine.Run(theirRead, theirWrite, long.MaxValue, initiator: false, o.State);
                }, 1 << 20)
                { IsBackground = true, Name = "context-switch partner" };
                partnerThread.Start();
            }
            else
            {
                string path = FindPartner(o.PartnerPath)!;
                var argv = new List<string>();
                string exe = path;
                if (path.EndsWith(".dll", StringComparison.Ordinal))
                {
                    exe = DotnetHost() ?? throw new InvalidOperationException("the dotnet host was not found to run " + path);
                    argv.AddRange([exe, "exec", path]);
                }
                else
                    argv.Add(exe);
                int maxSeconds = (int)Math.Ceiling(budget) + 60;
                argv.AddRange(["3", "4", cpu.ToString(CultureInfo.InvariantCulture), o.State.ToString().ToLowerInvariant(),
                    maxSeconds.ToString(CultureInfo.InvariantCulture)]);
                child = ChildProcess.Spawn(exe, argv, [(theirRead, 3), (theirWrite, 4)]);
                Libc.close(theirRead);
                Libc.close(theirWrite);
                theirRead = theirWrite = -1;
                if (!Pipes.ReadByteWithin(myRead, 30_000, out byte ready) || ready != (byte)'R')
                    throw new InvalidOperationException($"partner process {child.Pid} did not start (exit status {child.Reap(TimeSpan.FromSeconds(1))})");
            }

            // Warm-up, then the measured runs, each timed over whole chunks of the native loop.
            long chunk = 64;
            ulong? xinuse = null;
            (long rounds, double seconds) RunFor(TimeSpan span)
            {
                long rounds = 0;
                var sw = Stopwatch.StartNew();
                while (sw.Elapsed < span)
                {
                    var before = sw.Elapsed;
                    var r = engine.Run(myRead, myWrite, chunk, initiator: true, o.State);
                    rounds += r.Completed;
                    xinuse ??= r.XinUse;
                    if (r.Status != 1)
                        throw new InvalidOperationException(r.Status == 0 ? "the partner closed its pipe" : $"read/write failed: errno {-r.Status}");
                    // Aim at ~5 ms per chunk so the clock is read rarely but the end of the run stays sharp.
                    double per = (sw.Elapsed - before).TotalSeconds / Math.Max(1, r.Completed);
                    if (per > 0)
                        chunk = Math.Clamp((long)(0.005 / per), 16, 1 << 20);
                }
                return (rounds, sw.Elapsed.TotalSeconds);
            }

            RunFor(o.Warmup);
            var samples = new List<double>();
            long total = 0;
            for (int i = 0; i < o.Runs; i++)
            {
                var (rounds, secs) = RunFor(o.RunDuration);
                samples.Add(2.0 * rounds / secs);
                total += 2 * rounds;
                progress?.Report((i + 1.0) / o.Runs);
            }
            return new ContextSwitchMeasurement(o.Mode, o.State, cpu, xinuse, samples, Stats.Median(samples),
                Stats.SpreadPct(samples), Stats.RelativeStdDevPct(samples), total);
        }
        finally
        {
            // Closing our write end is the partner's end-of-file: it leaves its loop and exits.
            Libc.close(myWrite);
            if (partnerThread is not null && !partnerThread.Join(TimeSpan.FromSeconds(30)))
                partnerStillRunning = true;
            child?.Reap(TimeSpan.FromSeconds(10));
            Libc.close(myRead);
            if (theirRead >= 0) Libc.close(theirRead);
            if (theirWrite >= 0) Libc.close(theirWrite);
            if (!partnerStillRunning)
                engine.Dispose();
            else
                engine.Abandon();
        }
    }

    private static string? DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h))
            return h;
        if (Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet")
            return p;
        foreach (var d in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var c = Path.Combine(d, "dotnet");
            if (File.Exists(c))
                return c;
        }
        return null;
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
