namespace XsaveLab.Sim.Bench;

/// <summary>One measured operation: median time per operation over the samples, and bytes allocated per operation.</summary>
public sealed record BenchResult(string Name, double MedianNs, double AllocatedBytes, long OperationsPerSample, int Samples);

/// <summary>Ratios the speed goal is stated in (model XSAVEC+XRSTOR ≤ 1.5× the copy round trip, &lt; 1× native).</summary>
public sealed record BenchRatios(double ModelPairOverCopyRoundTrip, double? ModelPairOverNativePair);

/// <summary>The report of one in-process run. <c>Optimized</c> is false when the measuring code or the model
/// was compiled with the JIT optimizer disabled (a Debug build of XsaveLab.Sim): the figures then say little.</summary>
public sealed record BenchReport(string Cpu, int StateBytes, string Xcr0, string Xss, IReadOnlyList<BenchResult> Results, BenchRatios Ratios, string? NativeSkipped, bool Optimized);

/// <summary>The quick in-process speed run behind <c>xsavelab bench</c> (BenchmarkDotNet measures the same
/// operations in bench/XsaveLab.Benchmarks): on the host profile's full user state (every XCR0 component
/// non-init), the model's XSAVEC+XRSTOR, XSAVES+XRSTORS (XCR0|IA32_XSS) and XSAVEOPT+XRSTOR (modified
/// optimization hitting) pairs, a <see cref="Span{T}.CopyTo"/> of the same bytes there and back, and the
/// processor's XSAVEC64+XRSTOR64 pair looped inside one native call.</summary>
/// <remarks>Each figure is the median of several samples of many operations, timed with
/// <see cref="Stopwatch"/>; allocation is <see cref="GC.GetAllocatedBytesForCurrentThread"/> across a sample.</remarks>
public sealed class XsaveBench : IDisposable
{
    public const string ModelXsavecPair = "model XSAVEC+XRSTOR";
    public const string ModelXsavesPair = "model XSAVES+XRSTORS";
    public const string ModelXsaveoptPair = "model XSAVEOPT+XRSTOR (modified optimization)";
    public const string CopyRoundTrip = "Span.CopyTo there and back";
    public const string NativeXsavecPair = "native XSAVEC64+XRSTOR64";

    private const ulong Address = 0x7F00_0000_0000;

    private readonly NativeXsave? _native;
    private readonly byte[] _nativeImage = [];

    /// <summary>Sets up the model and, when the harness can run here, the native side.</summary>
    /// <exception cref="InvalidOperationException">The host CPU cannot be read or has no XSAVEC.</exception>
    public XsaveBench()
    {
        if (!HostCpu.TryRead(out var profile, out var why))
            throw new InvalidOperationException("cannot read the host CPU: " + why);
        Profile = profile!;
        if (!Profile.HasXsavec)
            throw new InvalidOperationException($"{Profile.Brand}: no XSAVEC, nothing to compare");
        if (NativeXsave.IsSupported)
        {
            _native = new NativeXsave();
            Xcr0 = _native.Xcr0;
            _nativeImage = new byte[_native.AreaSize];
            _native.SaveLive(SaveInstruction.Xsave, Xcr0, _nativeImage);
            FillNonInit(_nativeImage, Profile, Xcr0 & ~XFeatureMasks.Pkru, compacted: false, new Random(1));
        }
        else
        {
            NativeSkipped = NativeXsave.UnsupportedReason;
            Xcr0 = Profile.SupportedXcr0;
        }
        Xss = Profile.HasXsaves ? Profile.SupportedXss : 0;
        StateBytes = XStateGeometry.Size(Profile, Xcr0, compacted: true);
    }

    public CpuProfile Profile { get; }
    public ulong Xcr0 { get; }
    public ulong Xss { get; }
    public int StateBytes { get; }
    public string? NativeSkipped { get; }

    /// <summary>True when the processor side can be measured here (<see cref="NativeSkipped"/> says why not).</summary>
    public bool NativeAvailable => _native is not null;

    /// <summary><paramref name="count"/> XSAVEC64+XRSTOR64 pairs of the full user state inside one native call.</summary>
    public void RunNativePairs(long count)
    {
        if (_native is null)
            throw new InvalidOperationException("native harness unavailable: " + NativeSkipped);
        _native.RunPairs(SaveInstruction.Xsavec, Xcr0, count, _nativeImage);
    }

    /// <summary>A buffer large enough for any save of the host profile (XCR0|IA32_XSS, either form).</summary>
    public byte[] NewArea() => new byte[Math.Max(XStateGeometry.Size(Profile, Xcr0 | Xss, compacted: true),
        XStateGeometry.Size(Profile, Xcr0, compacted: false)) + 64];

    /// <summary>A booted model with every enabled component holding random, non-initial contents.</summary>
    public XsaveCpu NewModel(bool supervisor)
    {
        var cpu = new XsaveCpu(Profile) { OsXsave = true, Cpl = 0 };
        Check(cpu.Xsetbv(0, Xcr0));
        if (supervisor && Xss != 0)
            Check(cpu.Wrmsr(Msr.IA32_XSS, Xss));
        var rng = new Random(2);
        ulong enabled = (cpu.Xcr0 | cpu.Xss) & cpu.Enumerated;
        for (int i = 0; i < 63; i++)
        {
            if ((enabled >> i & 1) == 0)
                continue;
            var data = new byte[cpu.Read(i).Length];
            rng.NextBytes(data);
            if (i == (int)XFeature.Pkru)
                Array.Clear(data, 4, data.Length - 4);
            if (i is (int)XFeature.CetUser or (int)XFeature.CetKernel)
                for (int at = 0; at + 8 <= data.Length; at += 8) // canonical, aligned, no reserved bits, IA32_U_CET's IBT bits only with IBT: XRSTORS checks
                    BitConverter.TryWriteBytes(data.AsSpan(at), BitConverter.ToUInt64(data, at) & 0x0000_7FFF_FFFF_F000UL
                        & (i == (int)XFeature.CetUser && at == 0 && !cpu.Profile.Has(CpuFeature.Ibt) ? ~XsaveDataRules.CetIbtBits : ~0UL));
            Check(cpu.Write(i, data));
        }
        cpu.Mxcsr = 0x1FA0;
        return cpu;
    }

    /// <summary>Runs every measurement; <paramref name="sampleMs"/> is the length of one sample. The XSAVES pair
    /// saves to the address of the XRSTORS just before it, so the modified optimization applies as it would on
    /// hardware (nothing written since the restore: only the header is stored); the XSAVEC pair has no such
    /// shortcut, which is why it is the one held against the copy and the processor.</summary>
    public BenchReport Run(int samples = 301, double sampleMs = 0.25)
    {
        var cases = new List<(string Name, Action<long> Run)>();
        var area = NewArea();

        var c = NewModel(false);
        Check(c.Xsavec(area, Address, ~0UL)); // the measured loops ignore results: make sure they are not faults
        Check(c.Xrstor(area, Address, ~0UL));
        cases.Add((ModelXsavecPair, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (long n) =>
        {
            for (long i = 0; i < n; i++)
            {
                c.Xsavec(area, Address, ~0UL);
                c.Xrstor(area, Address, ~0UL);
            }
        }
        ));

        if (Profile.HasXsaves)
        {
            var s = NewModel(true);
            Check(s.Xsaves(area, Address, ~0UL));
            Check(s.Xrstors(area, Address, ~0UL));
            cases.Add((ModelXsavesPair, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (long n) =>
            {
                for (long i = 0; i < n; i++)
                {
                    s.Xsaves(area, Address, ~0UL);
                    s.Xrstors(area, Address, ~0UL);
                }
            }
            ));
        }

        if (Profile.HasXsaveopt)
        {
            var o = NewModel(false);
            var std = NewArea();
            Check(o.Xsave(std, Address, ~0UL));
            Check(o.Xrstor(std, Address, ~0UL));
            Check(o.Xsaveopt(std, Address, ~0UL));
            cases.Add((ModelXsaveoptPair, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (long n) =>
            {
                for (long i = 0; i < n; i++)
                {
                    o.Xrstor(std, Address, ~0UL);
                    o.Xsaveopt(std, Address, ~0UL);
                }
            }
            ));
        }

        var a = new byte[StateBytes];
        var b = new byte[StateBytes];
        new Random(3).NextBytes(a);
        cases.Add((CopyRoundTrip, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (long n) =>
        {
            for (long i = 0; i < n; i++)
            {
                a.AsSpan().CopyTo(b);
                b.AsSpan().CopyTo(a);
            }
        }
        ));

        if (_native is not null)
            cases.Add((NativeXsavecPair, RunNativePairs));
        var results = MeasureInterleaved(cases, samples, sampleMs);

        double model = results.First(r => r.Name == ModelXsavecPair).MedianNs;
        double copy = results.First(r => r.Name == CopyRoundTrip).MedianNs;
        double? native = results.FirstOrDefault(r => r.Name == NativeXsavecPair)?.MedianNs;
        return new BenchReport(Profile.Brand.Length > 0 ? Profile.Brand : Profile.Name, StateBytes, $"0x{Xcr0:x}", $"0x{Xss:x}",
            results, new BenchRatios(model / copy, native is { } n2 ? model / n2 : null), NativeSkipped,
            JitOptimized(typeof(XsaveCpu).Assembly) && JitOptimized(typeof(XsaveBench).Assembly));
    }

    /// <summary>Measures the cases round-robin, one sample of each in turn, so that load from other processes
    /// falls on all of them alike; each result is the median over its samples. Samples are kept short (a
    /// fraction of a scheduler time slice) so that most of them run uninterrupted on a busy machine.</summary>
    public static List<BenchResult> MeasureInterleaved(IReadOnlyList<(string Name, Action<long> Run)> cases, int samples, double sampleMs)
    {
        var counts = new long[cases.Count];
        for (int c = 0; c < cases.Count; c++)
            counts[c] = Calibrate(cases[c].Run, sampleMs);
        var ns = new double[cases.Count][];
        var allocated = new long[cases.Count];
        for (int c = 0; c < cases.Count; c++)
            ns[c] = new double[samples];
        for (int s = 0; s < samples; s++)
            for (int c = 0; c < cases.Count; c++)
            {
                cases[c].Run(Math.Max(1, counts[c] / 8)); // untimed lead-in: caches and clocks settle on this case
                long before = GC.GetAllocatedBytesForCurrentThread();
                long t0 = Stopwatch.GetTimestamp();
                cases[c].Run(counts[c]);
                ns[c][s] = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / counts[c];
                allocated[c] += GC.GetAllocatedBytesForCurrentThread() - before;
            }
        var results = new List<BenchResult>();
        for (int c = 0; c < cases.Count; c++)
        {
            Array.Sort(ns[c]);
            results.Add(new BenchResult(cases[c].Name, ns[c][samples / 2], (double)allocated[c] / (counts[c] * (long)samples), counts[c], samples));
        }
        return results;
    }

    /// <summary>Median ns per operation of <paramref name="run"/>(count) over <paramref name="samples"/> samples.</summary>
    public static BenchResult Measure(string name, int samples, double sampleMs, Action<long> run) =>
        MeasureInterleaved([(name, run)], samples, sampleMs)[0];

    /// <summary>Warms <paramref name="run"/> up and returns the operation count of one sample.</summary>
    private static long Calibrate(Action<long> run, double sampleMs)
    {
        // Warm up past tiered compilation (call counting, then tier-1 code installed in the background).
        long w0 = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(w0).TotalMilliseconds < 300)
            run(64);
        long n = 16;
        double ms;
        do
        {
            n *= 2;
            long t0 = Stopwatch.GetTimestamp();
            run(n);
            ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        } while (ms < sampleMs / 4 && n < 1L << 40);
        return Math.Max(1, (long)(n * sampleMs / Math.Max(ms, 0.001)));
    }

    /// <summary>Random contents in every component of <paramref name="mask"/> and XSTATE_BV = mask, keeping the
    /// image restorable (header otherwise zero, MXCSR valid).</summary>
    private static void FillNonInit(byte[] image, CpuProfile profile, ulong mask, bool compacted, Random rng)
    {
        var area = new XsaveArea(image);
        area.ClearHeader();
        for (int i = 1; i < 63; i++)
            if ((mask >> i & 1) != 0 && area.Component(profile, i) is { Length: > 0 } slot)
                rng.NextBytes(slot);
        area.Mxcsr = 0x1FA0;
        area.XstateBv = mask;
        _ = compacted;
    }

    private static bool JitOptimized(System.Reflection.Assembly assembly) =>
        assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is not [DebuggableAttribute { IsJITOptimizerDisabled: true }, ..];

    private static void Check(XsaveFault f)
    {
        if (f.IsFault)
            throw new InvalidOperationException("benchmark setup faulted: " + f);
    }

    public void Dispose() => _native?.Dispose();
}
