namespace XsaveLab.Sim.Tests;

/// <summary>Tests that time native instructions or measure real context switches run alone: in parallel they
/// would disturb each other's numbers (the calibration check is a model-accuracy check, not a speed assertion).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "native timing";
}
