namespace XsaveLab.Host.Linux;

/// <summary>The child side of the host probes: a program's Main calls <see cref="TryRun"/> first and
/// returns its value when it is not null. Parents start such a program through a
/// <see cref="ChildLauncher"/> with <see cref="Argument"/> and a mode.</summary>
/// <remarks>Modes (the arguments after <see cref="Argument"/>):
/// <list type="bullet">
/// <item><c>load-stop SEED…</c>: wait until traced, then for each seed load a <see cref="SeededXstateImage"/>
/// and stop with SIGSTOP inside the loading stub; restore the runtime's registers after each stop.</item>
/// <item><c>load-core DIR SEED</c>: raise RLIMIT_CORE, chdir to DIR, load the image and execute ud2 so
/// the kernel writes a core file there (core_pattern is never touched).</item>
/// <item><c>xrstor-trap</c>: wait until traced, then run <see cref="ChildStubs.XrstorTrap"/> on a 64-byte aligned
/// buffer of <see cref="XrstorTrapCapacity"/> bytes with RFBM all ones; the tracer drives it from there
/// (<see cref="XrstorTrapChild"/>) and kills it at the end.</item>
/// <item><c>xcomp-req FILE OPTION F1,F2,…</c>: run arch_prctl(OPTION, f) for each feature number and write
/// the results to FILE; this child's permissions may change, the parent's never do.</item>
/// </list></remarks>
public static unsafe class ChildMode
{
    public const string Argument = "--xsavelab-child";
    public const string LoadStop = "load-stop";
    public const string LoadCore = "load-core";
    public const string XcompRequest = "xcomp-req";
    public const string XrstorTrap = "xrstor-trap";

    /// <summary>The image buffer of an <c>xrstor-trap</c> child (room for every XSAVE layout CPUID can describe).</summary>
    public const int XrstorTrapCapacity = 65536;

    /// <summary>Exit codes besides 0.</summary>
    public const int ExitUsage = 2, ExitNotTraced = 3, ExitFaultReturned = 4, ExitSetupFailed = 5;

    /// <summary>How long a <c>load-stop</c> child waits for its tracer before giving up.</summary>
    public static readonly TimeSpan TracerWait = TimeSpan.FromSeconds(20);

    /// <summary>Null when <paramref name="args"/> does not start with <see cref="Argument"/>; otherwise
    /// runs the child mode and returns the process exit code.</summary>
    public static int? TryRun(string[] args)
    {
        if (args.Length == 0 || args[0] != Argument)
            return null;
        if (args.Length < 2)
            return Usage("missing mode");
        try
        {
            return args[1] switch
            {
                LoadStop => RunLoadStop(args[2..]),
                LoadCore => RunLoadCore(args[2..]),
                XcompRequest => RunXcompRequest(args[2..]),
                XrstorTrap => RunXrstorTrap(),
                _ => Usage($"unknown mode '{args[1]}'"),
            };
        }
        catch (FormatException e)
        {
            return Usage(e.Message);
        }
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"{Argument}: {problem}");
        return ExitUsage;
    }

    private static ulong ParseSeed(string s) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(s, CultureInfo.InvariantCulture);

    private static int RunLoadStop(string[] args)
    {
        if (args.Length == 0)
            return Usage("load-stop needs at least one seed");
        var seeds = args.Select(ParseSeed).ToArray();
        if (!WaitForTracer(TracerWait))
            return ExitNotTraced;
        var layout = UserXstateLayout.FromHost();
        ulong saveMask = layout.Features & ~Arch.Features.XFeatureMasks.UserDynamic;
        using var stubs = new ChildStubs();
        byte* scratch = (byte*)NativeMemory.AlignedAlloc(16384, 64);
        byte* image = (byte*)NativeMemory.AlignedAlloc(16384, 64);
        try
        {
            foreach (ulong seed in seeds)
            {
                var img = SeededXstateImage.Build(seed, layout);
                new Span<byte>(image, 16384).Clear();
                img.Image.CopyTo(new Span<byte>(image, img.Image.Length));
                // The XSAVE header of the scratch area must be zero before saving into it (docs/host-interfaces.md item 1).
                new Span<byte>(scratch, 16384).Clear();
                stubs.CallLoadAndStop(scratch, image, img.RestoreMask, saveMask);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(scratch);
            NativeMemory.AlignedFree(image);
        }
        return 0;
    }

    private static int RunLoadCore(string[] args)
    {
        if (args.Length != 2)
            return Usage("load-core needs DIR SEED");
        string dir = args[0];
        ulong seed = ParseSeed(args[1]);
        const int RlimitCore = 4;
        ulong* lim = stackalloc ulong[2];
        if (Libc.getrlimit(RlimitCore, lim) != 0)
            return ExitSetupFailed;
        lim[0] = lim[1]; // soft = hard (unlimited unless the parent was restricted)
        if (Libc.setrlimit(RlimitCore, lim) != 0 || Libc.chdir(dir) != 0)
            return ExitSetupFailed;
        var layout = UserXstateLayout.FromHost();
        var img = SeededXstateImage.Build(seed, layout);
        var stubs = new ChildStubs();
        byte* image = (byte*)NativeMemory.AlignedAlloc(16384, 64);
        byte* act = (byte*)NativeMemory.AllocZeroed(64);
        new Span<byte>(image, 16384).Clear();
        img.Image.CopyTo(new Span<byte>(image, img.Image.Length));
        stubs.CallLoadAndFault(image, img.RestoreMask, act);
        return ExitFaultReturned;
    }

    private static int RunXrstorTrap()
    {
        if (!WaitForTracer(TracerWait))
            return ExitNotTraced;
        var stubs = new ChildStubs();
        byte* image = (byte*)NativeMemory.AlignedAlloc(XrstorTrapCapacity, 64);
        new Span<byte>(image, XrstorTrapCapacity).Clear();
        stubs.CallXrstorTrap(image, ~0UL);
        return ExitFaultReturned;
    }

    private static int RunXcompRequest(string[] args)
    {
        if (args.Length != 3)
            return Usage("xcomp-req needs FILE OPTION FEATURES");
        string file = args[0];
        int option = (int)ParseSeed(args[1]);
        var features = args[2].Length == 0 ? [] : args[2].Split(',').Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        int getOption = option == ArchPrctl.ReqXcompGuestPerm ? ArchPrctl.GetXcompGuestPerm : ArchPrctl.GetXcompPerm;
        var sb = new StringBuilder();
        var before = LiveArchPrctl.Get(getOption);
        sb.Append(CultureInfo.InvariantCulture, $"before {before.Ret} {(int)before.Errno} {before.Value}\n");
        foreach (long f in features)
        {
            var r = LiveArchPrctl.Request(option, f);
            sb.Append(CultureInfo.InvariantCulture, $"req {f} {r.Ret} {(int)r.Errno}\n");
        }
        var after = LiveArchPrctl.Get(getOption);
        sb.Append(CultureInfo.InvariantCulture, $"after {after.Ret} {(int)after.Errno} {after.Value}\n");
        string tmp = file + ".tmp";
        File.WriteAllText(tmp, sb.ToString());
        File.Move(tmp, file, overwrite: true);
        return 0;
    }

    /// <summary>Polls /proc/self/status until TracerPid is non-zero.</summary>
    private static bool WaitForTracer(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("TracerPid:", StringComparison.Ordinal))
                {
                    if (line.AsSpan(10).Trim() is var v && !v.SequenceEqual("0"))
                        return true;
                    break;
                }
            Thread.Sleep(1);
        }
        return false;
    }
}
