namespace XsaveLab.Sim.Cost;

/// <summary>What one save or restore does, as counted by the simulator or derived from masks.</summary>
/// <param name="Requested">|RFBM| — components the instruction was asked for.</param>
/// <param name="Moved">Components written (save) or loaded from memory (restore).</param>
/// <param name="Bytes">Bytes written or read, header words included.</param>
public readonly record struct XferCounts(int Requested, int Moved, int Bytes)
{
    public double[] Features() => [1, Requested, Moved, Bytes];
}

/// <summary>Nanoseconds per save and restore as a function of components requested, in use and written,
/// plus a fixed per-switch part.</summary>
/// <remarks>
/// <para>Saves and restores follow <see cref="LinearCost"/>; which components count as written comes from the
/// instruction's rules (SDM Vol.1 §13.7 XSAVE writes every RFBM component; §13.9 XSAVEOPT and §13.10 XSAVEC
/// skip components in their initial configuration; §13.6 XSAVEOPT/XSAVES also skip unmodified ones after a
/// restore from the same address).</para>
/// <para><b>XSAVES/XRSTORS</b> cannot run at CPL 3 (#GP), so they are not timed. <see cref="XsavesEstimateText"/>
/// says how they are estimated: XSAVES with the XSAVEC fit, XRSTORS with the XRSTOR fit.</para>
/// </remarks>
public sealed class CostModel(CostModelParameters parameters)
{
    public const string XsavesEstimateText =
        "XSAVES/XRSTORS are CPL0-only and cannot be timed from user mode. XSAVES is costed with the XSAVEC fit " +
        "(same compacted layout and init optimisation; its modified optimisation is reflected by counting only the " +
        "components the simulated instruction actually wrote), XRSTORS with the XRSTOR fit. Supervisor components " +
        "(CET_U 16 B, CET_S 24 B, PASID 8 B) are charged the same per-component and per-byte cost as user components; " +
        "their real MSR-backed cost is not observable here and is an assumption.";

    public CostModelParameters Parameters { get; } = parameters;

    private CostFit SaveFit(SaveInstruction instr) => instr switch
    {
        SaveInstruction.Xsave => Parameters.Save["xsave"],
        SaveInstruction.Xsaveopt => Parameters.Save.GetValueOrDefault("xsaveopt") ?? Parameters.Save["xsave"],
        _ => Parameters.Save["xsavec"],
    };

    /// <summary>The fitted save cost the model charges <paramref name="instr"/> with.</summary>
    public LinearCost SaveCost(SaveInstruction instr) => SaveFit(instr).Cost;

    public double SaveNs(SaveInstruction instr, XferCounts c) => SaveFit(instr).Cost.Predict(c.Requested, c.Moved, c.Bytes);

    public double RestoreNs(XferCounts c) => Parameters.Restore.Cost.Predict(c.Requested, c.Moved, c.Bytes);

    /// <summary>Predicted native time of a save immediately followed by a restore of the same buffer (what the
    /// calibration loops time): save + restore + the measured pairing overlap.</summary>
    public double PairNs(SaveInstruction instr, XferCounts save, XferCounts restore) =>
        SaveNs(instr, save) + RestoreNs(restore) + Parameters.PairOverlapNs.GetValueOrDefault(Key(instr));

    /// <summary>Predicted ns of one context switch: the fixed part plus the outgoing task's save and the
    /// incoming task's restore.</summary>
    public double SwitchNs(SaveInstruction instr, XferCounts save, XferCounts restore) =>
        (Parameters.SwitchFixedNs ?? 0) + SaveNs(instr, save) + RestoreNs(restore);

    /// <summary>Mean and standard deviation of (switch b − switch a) in ns from the coefficient covariances:
    /// correlated errors cancel, so identical work gives zero uncertainty.</summary>
    public (double Mean, double StdDev) SwitchDifferenceNs(SaveInstruction instr, (XferCounts Save, XferCounts Restore) a, (XferCounts Save, XferCounts Restore) b)
    {
        double mean = (SaveNs(instr, b.Save) - SaveNs(instr, a.Save)) + (RestoreNs(b.Restore) - RestoreNs(a.Restore));
        var gs = Sub(b.Save.Features(), a.Save.Features());
        var gr = Sub(b.Restore.Features(), a.Restore.Features());
        double vs = LeastSquares.StdDevOf(gs, SaveFit(instr).CovarianceMatrix());
        double vr = LeastSquares.StdDevOf(gr, Parameters.Restore.CovarianceMatrix());
        return (mean, Math.Sqrt(vs * vs + vr * vr));
    }

    /// <summary>As above for mean feature vectors [1, |RFBM|, moved, bytes] (linear model: the mean prediction
    /// is the prediction of the means).</summary>
    public (double Mean, double StdDev) SwitchDifferenceNs(SaveInstruction instr, double[] saveA, double[] restoreA, double[] saveB, double[] restoreB)
    {
        var fit = SaveFit(instr);
        double Pred(LinearCost c, double[] f) => c.Base * f[0] + c.PerRequested * f[1] + c.PerComponent * f[2] + c.PerByte * f[3];
        double mean = (Pred(fit.Cost, saveB) - Pred(fit.Cost, saveA)) + (Pred(Parameters.Restore.Cost, restoreB) - Pred(Parameters.Restore.Cost, restoreA));
        double vs = LeastSquares.StdDevOf(Sub(saveB, saveA), fit.CovarianceMatrix());
        double vr = LeastSquares.StdDevOf(Sub(restoreB, restoreA), Parameters.Restore.CovarianceMatrix());
        return (mean, Math.Sqrt(vs * vs + vr * vr));
    }

    public static string Key(SaveInstruction instr) => instr.ToString().ToLowerInvariant();

    /// <summary>Counts for a save by rule: which components the instruction writes given RFBM and XINUSE.</summary>
    /// <param name="modifiedOptimisation">The last restore was from this buffer and nothing was modified since
    /// (XSAVEOPT/XSAVES then write nothing beyond the header).</param>
    public static XferCounts SaveCounts(SaveInstruction instr, ulong rfbm, ulong inUse, ComponentBytes bytes, bool modifiedOptimisation = false)
    {
        ulong written = instr switch
        {
            SaveInstruction.Xsave => rfbm,
            SaveInstruction.Xsavec => rfbm & inUse,
            _ => modifiedOptimisation ? 0 : rfbm & inUse,
        };
        bool compacted = instr is SaveInstruction.Xsavec or SaveInstruction.Xsaves;
        return new XferCounts(BitOperations.PopCount(rfbm & ~XFeatureMasks.CompactedFormat), BitOperations.PopCount(written),
            bytes.WithHeader(written, compacted));
    }

    /// <summary>Counts for a restore: components with XSTATE_BV set are loaded, the rest of RFBM initialised.</summary>
    public static XferCounts RestoreCounts(ulong rfbm, ulong xstateBv, ComponentBytes bytes, bool compacted)
    {
        ulong loaded = rfbm & xstateBv;
        _ = compacted; // both forms read the whole header
        return new XferCounts(BitOperations.PopCount(rfbm & ~XFeatureMasks.CompactedFormat), BitOperations.PopCount(loaded),
            bytes.Restored(loaded));
    }

    private static double[] Sub(double[] x, double[] y) => x.Zip(y, (p, q) => p - q).ToArray();
}
