namespace XsaveLab.Sim.Experiment;

/// <summary>One side of a switch (the outgoing task's save or the incoming task's restore), per switch: what was
/// counted and what each term of <see cref="LinearCost"/> charges for it.</summary>
/// <param name="Operations">Saves (restores) per switch; a restore is skipped when the registers still hold the task's state.</param>
/// <param name="Requested">|RFBM| per switch, summed over the operations.</param>
/// <param name="Moved">Components written (read) per switch.</param>
/// <param name="Bytes">Bytes written (read) per switch, header words included.</param>
public sealed record TransferBreakdown(
    double Operations, double Requested, double Moved, double Bytes,
    double BaseNs, double RequestedNs, double ComponentNs, double ByteNs)
{
    public double TotalNs => BaseNs + RequestedNs + ComponentNs + ByteNs;

    internal static TransferBreakdown Of(XferTotals t, long switches, LinearCost c)
    {
        double n = Math.Max(1, switches);
        double ops = t.Count / n, req = t.Requested / n, moved = t.Components / n, bytes = t.Bytes / n;
        return new(ops, req, moved, bytes, c.Base * ops, c.PerRequested * req, c.PerComponent * moved, c.PerByte * bytes);
    }
}

/// <summary>A variant's predicted ns per switch, term by term, so a reader can recompute it: the fixed part
/// (scheduler, pipes, syscalls) plus the save and the restore, each base + per requested component + per moved
/// component + per byte.</summary>
public sealed record PredictionBreakdown(string SaveInstruction, double FixedNs, TransferBreakdown Save, TransferBreakdown Restore)
{
    public double TotalNs => FixedNs + Save.TotalNs + Restore.TotalNs;

    internal static PredictionBreakdown Of(SimStats ping, CostModel cost, SaveInstruction instr) => new(
        CostModel.Key(instr),
        cost.Parameters.SwitchFixedNs ?? 0,
        TransferBreakdown.Of(ping.SwitchSaves, ping.Switches, cost.SaveCost(instr)),
        TransferBreakdown.Of(ping.SwitchRestores, ping.Switches, cost.Parameters.Restore.Cost));
}
