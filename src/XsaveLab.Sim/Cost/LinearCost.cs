namespace XsaveLab.Sim.Cost;

/// <summary>ns = Base + PerRequested·|RFBM| + PerComponent·|moved| + PerByte·bytes moved.</summary>
/// <remarks>"Moved" = components the instruction actually writes (saves: after the init and modified
/// optimisations) or loads from memory (restores: XSTATE_BV ∧ RFBM); components requested but not moved
/// still cost <see cref="PerRequested"/> (header processing, initialisation on restore).</remarks>
public sealed record LinearCost(double Base, double PerRequested, double PerComponent, double PerByte)
{
    public double Predict(int requested, int moved, int bytes) =>
        Base + PerRequested * requested + PerComponent * moved + PerByte * bytes;

    public static readonly LinearCost Zero = new(0, 0, 0, 0);
}
