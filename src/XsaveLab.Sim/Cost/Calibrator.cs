namespace XsaveLab.Sim.Cost;

/// <summary>One component mix: requested components and those in use.</summary>
public readonly record struct ComponentMix(ulong Rfbm, ulong InUse)
{
    public override string ToString() => $"rfbm=0x{Rfbm:x} inuse=0x{InUse:x}";
}

/// <summary>A held-out pair: measured natively, predicted by the model fitted without it.</summary>
public sealed record HeldOutPair(SaveInstruction Instr, ComponentMix Mix, double MeasuredNs, double PredictedNs)
{
    public double ErrorPct => (PredictedNs - MeasuredNs) / MeasuredNs * 100;
}

public sealed record CalibrationResult(
    CostModelParameters Parameters,
    IReadOnlyList<ComponentMix> TrainingMixes,
    IReadOnlyList<HeldOutPair> HeldOut,
    int Seed)
{
    /// <summary>Largest |error| over held-out pairs of the given instructions.</summary>
    public double MaxAbsErrorPct(params SaveInstruction[] instrs) =>
        HeldOut.Where(h => instrs.Length == 0 || instrs.Contains(h.Instr)).Select(h => Math.Abs(h.ErrorPct)).DefaultIfEmpty(0).Max();
}

/// <summary>Sweeps component mixes, times saves, restores and pairs, fits <see cref="CostModel"/> on the
/// training mixes and checks it on the held-out ones.</summary>
/// <remarks>Mixes: RFBM = x87|SSE ∪ R and XINUSE = x87|SSE ∪ I for I ⊆ R ⊆ E, where E is XCR0's extended user
/// components without PKRU (a restore must never load a foreign PKRU) and without AMX (needs a permission
/// request). Up to <see cref="CalibrationOptions.MaxMixes"/> mixes are drawn with a seeded shuffle; every
/// <see cref="CalibrationOptions.HoldOutEvery"/>-th is held out.</remarks>
public static class Calibrator
{
    public static IReadOnlyList<ComponentMix> Mixes(ulong xcr0, int max, int seed)
    {
        ulong baseMask = xcr0 & XFeatureMasks.FpSse;
        ulong e = xcr0 & XFeatureMasks.Extend & ~XFeatureMasks.Pkru & ~XFeatureMasks.Xtile & XFeatureMasks.UserSupported;
        var bits = new List<int>();
        for (ulong m = e; m != 0; m &= m - 1)
            bits.Add(BitOperations.TrailingZeroCount(m));
        var all = new List<ComponentMix>();
        int n = bits.Count;
        long total = (long)Math.Pow(3, n);
        for (long code = 0; code < total && all.Count < 100_000; code++)
        {
            ulong r = 0, i = 0;
            long c = code;
            for (int b = 0; b < n; b++, c /= 3)
            {
                int t = (int)(c % 3); // 0: not requested, 1: requested, init, 2: requested, in use
                if (t >= 1) r |= 1UL << bits[b];
                if (t == 2) i |= 1UL << bits[b];
            }
            all.Add(new ComponentMix(baseMask | r, baseMask | i));
        }
        var rng = new Random(seed);
        var shuffled = all.OrderBy(_ => rng.Next()).ToList();
        // Always keep the extremes (nothing extended / everything in use) for training.
        var full = new ComponentMix(baseMask | e, baseMask | e);
        var none = new ComponentMix(baseMask, baseMask);
        shuffled.Remove(full);
        shuffled.Remove(none);
        shuffled.Insert(0, full);
        shuffled.Insert(1, none);
        return shuffled.Take(Math.Max(2, max)).ToList();
    }

    public static CalibrationResult Run(IXsaveTimer timer, CalibrationOptions? options = null, IProgress<double>? progress = null)
    {
        var o = options ?? new CalibrationOptions();
        var mixes = Mixes(timer.Xcr0, o.MaxMixes, o.Seed);
        var instrs = new[] { SaveInstruction.Xsave, SaveInstruction.Xsaveopt, SaveInstruction.Xsavec }.Where(timer.Supports).ToArray();
        if (!instrs.Contains(SaveInstruction.Xsave))
            throw new InvalidOperationException("the timer cannot run XSAVE");

        var saveRows = instrs.ToDictionary(i => i, _ => (Rows: new List<double[]>(), Y: new List<double>()));
        var restoreRows = (Rows: new List<double[]>(), Y: new List<double>());
        var pairs = new List<(SaveInstruction Instr, ComponentMix Mix, double Ns, bool Train)>();
        var training = new List<ComponentMix>();
        int steps = mixes.Count, done = 0;
        for (int k = 0; k < mixes.Count; k++)
        {
            var mix = mixes[k];
            bool train = k < 2 || k % o.HoldOutEvery != o.HoldOutEvery - 1;
            if (train)
            {
                training.Add(mix);
                foreach (var instr in instrs)
                {
                    var c = CostModel.SaveCounts(instr, mix.Rfbm, mix.InUse, timer.Bytes);
                    saveRows[instr].Rows.Add(c.Features());
                    saveRows[instr].Y.Add(timer.SaveNs(instr, mix.Rfbm, mix.InUse));
                }
                var rc = CostModel.RestoreCounts(mix.Rfbm, mix.InUse, timer.Bytes, compacted: false);
                restoreRows.Rows.Add(rc.Features());
                restoreRows.Y.Add(timer.RestoreNs(mix.Rfbm, mix.InUse));
            }
            foreach (var instr in instrs)
                pairs.Add((instr, mix, timer.PairNs(instr, mix.Rfbm, mix.InUse), train));
            progress?.Report(++done / (double)steps);
        }

        var save = new Dictionary<string, CostFit>();
        foreach (var instr in instrs)
            save[CostModel.Key(instr)] = ToFit(LeastSquares.NonNegative(saveRows[instr].Rows, saveRows[instr].Y));
        if (!save.ContainsKey("xsavec"))
            save["xsavec"] = save["xsave"];
        var restore = ToFit(LeastSquares.NonNegative(restoreRows.Rows, restoreRows.Y));
        var p0 = new CostModelParameters
        {
            Machine = timer.Machine,
            CpuSignature = timer.CpuSignature,
            Xcr0 = $"0x{timer.Xcr0:x}",
            CalibratedUtc = DateTimeOffset.UtcNow,
            Save = save,
            Restore = restore,
        };
        var m0 = new CostModel(p0);
        var overlap = new Dictionary<string, double>();
        foreach (var instr in instrs)
        {
            var diffs = pairs.Where(x => x.Train && x.Instr == instr).Select(x => x.Ns - Predict(m0, instr, x.Mix, timer.Bytes, 0)).ToList();
            overlap[CostModel.Key(instr)] = Measure.Stats.Median(diffs);
        }
        var p = p0 with { PairOverlapNs = overlap };
        var model = new CostModel(p);
        var held = pairs.Where(x => !x.Train)
            .Select(x => new HeldOutPair(x.Instr, x.Mix, x.Ns, model.PairNs(x.Instr, PairSave(x.Instr, x.Mix, timer.Bytes), PairRestore(x.Instr, x.Mix, timer.Bytes))))
            .ToList();
        return new CalibrationResult(p, training, held, o.Seed);
    }

    private static double Predict(CostModel m, SaveInstruction instr, ComponentMix mix, ComponentBytes bytes, double overlap) =>
        m.SaveNs(instr, PairSave(instr, mix, bytes)) + m.RestoreNs(PairRestore(instr, mix, bytes)) + overlap;

    /// <summary>In a pair loop XSAVEOPT follows an XRSTOR of the same buffer, so its modified optimisation applies.</summary>
    internal static XferCounts PairSave(SaveInstruction instr, ComponentMix mix, ComponentBytes bytes) =>
        CostModel.SaveCounts(instr, mix.Rfbm, mix.InUse, bytes, modifiedOptimisation: instr == SaveInstruction.Xsaveopt);

    internal static XferCounts PairRestore(SaveInstruction instr, ComponentMix mix, ComponentBytes bytes) =>
        CostModel.RestoreCounts(mix.Rfbm, mix.InUse, bytes, compacted: instr == SaveInstruction.Xsavec);

    private static CostFit ToFit(LeastSquares.Fit f)
    {
        var cov = new double[4][];
        for (int i = 0; i < 4; i++)
        {
            cov[i] = new double[4];
            for (int j = 0; j < 4; j++)
                cov[i][j] = f.Covariance[i, j];
        }
        var b = f.Coefficients;
        return new CostFit(new LinearCost(b[0], b[1], b[2], b[3]), cov, f.RelativeResidualPct, f.Samples);
    }
}

public sealed record CalibrationOptions
{
    public int MaxMixes { get; init; } = 81;
    public int HoldOutEvery { get; init; } = 4;
    public int Seed { get; init; } = 20250318;

    /// <summary>Instructions per timed native call.</summary>
    public int Iterations { get; init; } = 20_000;

    /// <summary>Timed calls per measurement; the median is used.</summary>
    public int Repetitions { get; init; } = 7;
}
