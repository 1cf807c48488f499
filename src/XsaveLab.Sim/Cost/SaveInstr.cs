namespace XsaveLab.Sim.Cost;

/// <summary>The save instructions the cost model knows. XSAVES has no user-mode timing; see
/// <see cref="CostModel"/> for how it is estimated.</summary>
public enum SaveInstr
{
    Xsave,
    Xsaveopt,
    Xsavec,
    Xsaves,
}
