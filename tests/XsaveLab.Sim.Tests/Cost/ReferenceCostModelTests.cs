namespace XsaveLab.Sim.Tests.Cost;

public class ReferenceCostModelTests
{
    [Fact]
    public void The_shipped_model_loads_through_the_validating_reader_and_names_its_machine()
    {
        var p = ReferenceCostModel.Load();
        Assert.False(string.IsNullOrWhiteSpace(p.Machine));
        Assert.NotNull(p.CalibratedUtc);
        Assert.NotNull(p.SwitchFixedNs); // the fixed part makes throughput changes relative to a whole switch
        Assert.Contains(p.Machine, ReferenceCostModel.Describe(p));
        // Same bytes each time: the resource is data, not a calibration.
        Assert.Equal(p.ToJson(), ReferenceCostModel.Load().ToJson());
    }
}
