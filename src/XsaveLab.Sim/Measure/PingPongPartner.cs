namespace XsaveLab.Sim.Measure;

/// <summary>The partner side of the process-mode ping-pong, run in a child process
/// (<c>XsaveLab.Sim.PingPong READFD WRITEFD CPU STATE MAXSECONDS</c>).</summary>
/// <remarks>Like will-it-scale's forked partner: pin to the parent's CPU, signal readiness with one byte,
/// then read a byte and write it back until the parent closes its pipe (end of file). A watchdog ends the
/// process if the parent never does, so a child can never outlive a crashed measurement for long.</remarks>
public static class PingPongPartner
{
    public const int ExitOk = 0, ExitUsage = 2, ExitFailed = 3;

    public static unsafe int Run(string[] args)
    {
        if (args.Length != 5
            || !int.TryParse(args[0], CultureInfo.InvariantCulture, out int readFd)
            || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int writeFd)
            || !int.TryParse(args[2], CultureInfo.InvariantCulture, out int cpu)
            || !Enum.TryParse(args[3], ignoreCase: true, out VectorState state)
            || !int.TryParse(args[4], CultureInfo.InvariantCulture, out int maxSeconds))
        {
            Console.Error.WriteLine("usage: XsaveLab.Sim.PingPong READFD WRITEFD CPU asis|init|wide MAXSECONDS");
            return ExitUsage;
        }
        var watchdog = new Thread(() => { Thread.Sleep(TimeSpan.FromSeconds(maxSeconds)); Environment.Exit(ExitFailed); })
        { IsBackground = true };
        watchdog.Start();

        var worker = new Thread(() => Environment.ExitCode = Partner(readFd, writeFd, cpu, state));
        worker.Start();
        worker.Join();
        Libc.close(readFd);
        Libc.close(writeFd);
        return Environment.ExitCode;
    }

    private static unsafe int Partner(int readFd, int writeFd, int cpu, VectorState state)
    {
        if (cpu >= 0 && Affinity.PinCurrentThread(cpu) != 0)
            return ExitFailed;
        using var engine = PingPongEngine.Create();
        if (!engine.Supports(state))
            return ExitFailed;
        byte ready = (byte)'R';
        if (Libc.write(writeFd, &ready, 1) != 1)
            return ExitFailed;
        var outcome = engine.Run(readFd, writeFd, long.MaxValue, initiator: false, state);
        return outcome.Status == 0 ? ExitOk : ExitFailed;
    }
}
