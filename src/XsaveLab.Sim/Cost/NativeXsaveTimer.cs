namespace XsaveLab.Sim.Cost;

/// <summary>Times XSAVE/XSAVEC/XSAVEOPT/XRSTOR on this processor through the native loops of
/// <see cref="NativeXsave"/> (many instructions inside one native call; the call's fixed cost, timed with a
/// count of 0, is subtracted). Each figure is the median over <c>repetitions</c> rounds of the fastest of
/// several short calls: on a shared machine a call that was preempted is slower, never faster, so the
/// fastest short call is the undisturbed one and the median across rounds keeps one lucky outlier out.</summary>
/// <remarks>In-use components are set by the image restored before the loop: its XSTATE_BV holds exactly the
/// requested in-use set, every in-use component carries non-zero data. PKRU is never in a mask (a restore
/// must not load a foreign PKRU value: docs/host-interfaces.md item 3).</remarks>
public sealed class NativeXsaveTimer : IXsaveTimer, IDisposable
{
    private readonly NativeXsave _cpu;
    private readonly Dictionary<ulong, byte[]> _images = [];
    private readonly byte[] _live;
    private readonly int _iterations, _reps;

    /// <summary>Why native timing is impossible here, or null.</summary>
    public static string? Unavailable() => HostCpu.Unavailable() ?? NativeXsave.UnsupportedReason;

    public const int CallsPerRound = 9;

    public NativeXsaveTimer(int iterations = 2_000, int repetitions = 5)
    {
        if (Unavailable() is { } why)
            throw new PlatformNotSupportedException(why);
        if (!HostCpu.TryRead(out var profile, out var reason))
            throw new PlatformNotSupportedException(reason);
        Profile = profile!;
        _cpu = new NativeXsave();
        _iterations = iterations;
        _reps = repetitions;
        Bytes = new ComponentBytes(Profile);
        _live = new byte[_cpu.AreaSize];
        _cpu.SaveLive(SaveInstruction.Xsave, _cpu.Xcr0 & ~XFeatureMasks.Pkru, _live);
    }

    public CpuProfile Profile { get; }
    public string Machine => string.IsNullOrEmpty(Profile.Brand) ? Profile.Name : Profile.Brand;
    public string CpuSignature => $"0x{Profile.Signature:x8}";
    public ulong Xcr0 => _cpu.Xcr0;
    public ComponentBytes Bytes { get; }

    public bool Supports(SaveInstruction instr) => instr switch
    {
        SaveInstruction.Xsave => true,
        SaveInstruction.Xsavec => _cpu.HasXsavec,
        SaveInstruction.Xsaveopt => _cpu.HasXsaveopt,
        _ => false,
    };

    /// <summary>The instructions the native harness runs (user mode: not XSAVES).</summary>
    private static SaveInstruction Kind(SaveInstruction i) => i is SaveInstruction.Xsave or SaveInstruction.Xsavec or SaveInstruction.Xsaveopt
        ? i
        : throw new PlatformNotSupportedException($"{i} cannot run in user mode");

    public double SaveNs(SaveInstruction instr, ulong rfbm, ulong inUse)
    {
        var img = Image(inUse);
        return Time(n => _cpu.RunSaves(Kind(instr), rfbm, n, img));
    }

    public double RestoreNs(ulong rfbm, ulong inUse)
    {
        var img = Image(inUse);
        return Time(n => _cpu.RunRestores(rfbm, n, img));
    }

    public double PairNs(SaveInstruction instr, ulong rfbm, ulong inUse)
    {
        var img = Image(inUse);
        return Time(n => _cpu.RunPairs(Kind(instr), rfbm, n, img));
    }

    private double Time(Action<long> run)
    {
        run(Math.Min(1000, _iterations));
        var perRound = new double[_reps];
        for (int r = 0; r < _reps; r++)
        {
            double bestFixed = double.MaxValue, bestTotal = double.MaxValue;
            for (int k = 0; k < CallsPerRound; k++)
            {
                long t0 = Stopwatch.GetTimestamp();
                run(0);
                long t1 = Stopwatch.GetTimestamp();
                run(_iterations);
                long t2 = Stopwatch.GetTimestamp();
                bestFixed = Math.Min(bestFixed, (t1 - t0) * 1e9 / Stopwatch.Frequency);
                bestTotal = Math.Min(bestTotal, (t2 - t1) * 1e9 / Stopwatch.Frequency);
            }
            perRound[r] = (bestTotal - bestFixed) / _iterations;
        }
        return Math.Max(Measure.Stats.Median(perRound), 0.01);
    }

    /// <summary>A standard-form image with XSTATE_BV = <paramref name="inUse"/> and non-zero data in each of them.</summary>
    private byte[] Image(ulong inUse)
    {
        inUse &= _cpu.Xcr0 & ~XFeatureMasks.Pkru;
        if (_images.TryGetValue(inUse, out var img))
            return img;
        img = (byte[])_live.Clone();
        img.AsSpan(XsaveOffsets.Header, XsaveOffsets.HeaderSize).Clear();
        if ((inUse & XFeatureMasks.Fp) != 0)
            for (int st = 0; st < XsaveOffsets.StCount; st++)
                img[XsaveOffsets.St(st)] = (byte)(st + 1); // ST mantissas; FCW/FSW/FTW stay the live ones
        if ((inUse & XFeatureMasks.Sse) != 0)
            for (int b = 0; b < XsaveOffsets.XmmSpaceSize; b++)
                img[XsaveOffsets.XmmSpace + b] = (byte)(b + 1);
        for (ulong m = inUse & XFeatureMasks.Extend; m != 0; m &= m - 1)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(m);
            int off = _cpu.StandardOffsetOf(i), size = Bytes.Size(i);
            if (off < 0)
                continue;
            for (int b = 0; b < size; b++)
                img[off + b] = (byte)(i * 13 + b % 241 + 1);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv), inUse);
        _images[inUse] = img;
        return img;
    }

    public void Dispose() => _cpu.Dispose();
}
