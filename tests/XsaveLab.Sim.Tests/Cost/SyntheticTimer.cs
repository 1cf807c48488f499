namespace XsaveLab.Sim.Tests.Cost;

/// <summary>A timer whose "hardware" follows known linear costs plus seeded noise.</summary>
internal sealed class SyntheticTimer(ComponentBytes bytes, ulong xcr0, double noisePct, int seed) : IXsaveTimer
{
    private readonly Random _rng = new(seed);
    public LinearCost Xsave { get; init; } = new(20, 1.5, 4, 0.02);
    public LinearCost Xsavec { get; init; } = new(18, 1.0, 5, 0.022);
    public LinearCost Xsaveopt { get; init; } = new(16, 1.2, 4, 0.02);
    public LinearCost Restore { get; init; } = new(25, 2.0, 3, 0.025);
    public double Overlap { get; init; } = -3;

    public string Machine => "synthetic";
    public string CpuSignature => "0x0";
    public ulong Xcr0 => xcr0;
    public ComponentBytes Bytes => bytes;
    public bool Supports(SaveInstruction instr) => instr != SaveInstruction.Xsaves;

    private double Noise(double v) => v * (1 + noisePct / 100 * (2 * _rng.NextDouble() - 1));
    private LinearCost Of(SaveInstruction i) => i switch { SaveInstruction.Xsave => Xsave, SaveInstruction.Xsavec => Xsavec, _ => Xsaveopt };

    public double SaveNs(SaveInstruction instr, ulong rfbm, ulong inUse)
    {
        var c = CostModel.SaveCounts(instr, rfbm, inUse, bytes);
        return Noise(Of(instr).Predict(c.Requested, c.Moved, c.Bytes));
    }

    public double RestoreNs(ulong rfbm, ulong inUse)
    {
        var c = CostModel.RestoreCounts(rfbm, inUse, bytes, false);
        return Noise(Restore.Predict(c.Requested, c.Moved, c.Bytes));
    }

    public double PairNs(SaveInstruction instr, ulong rfbm, ulong inUse)
    {
        var s = CostModel.SaveCounts(instr, rfbm, inUse, bytes, instr == SaveInstruction.Xsaveopt);
        var r = CostModel.RestoreCounts(rfbm, inUse, bytes, instr == SaveInstruction.Xsavec);
        return Noise(Of(instr).Predict(s.Requested, s.Moved, s.Bytes) + Restore.Predict(r.Requested, r.Moved, r.Bytes) + Overlap);
    }
}
