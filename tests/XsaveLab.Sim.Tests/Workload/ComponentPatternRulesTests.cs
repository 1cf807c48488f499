namespace XsaveLab.Sim.Tests.Workload;

/// <summary>The register images the simulator writes are loadable by the one definition of valid component data
/// (the 48-bit canonical rule, the stricter of the two address widths).</summary>
public class ComponentPatternRulesTests
{
    [Fact]
    public void Every_pattern_on_every_catalog_cpu_is_valid_component_data()
    {
        int checkedPatterns = 0;
        foreach (var cpu in CpuCatalog.All)
        {
            var sys = FpuSystem.Boot(cpu, KernelVariants.All[^1]);
            var patterns = ComponentPatterns.For(sys);
            for (int i = 0; i < patterns.Length; i++)
            {
                if (patterns[i] is not { } data)
                    continue;
                checkedPatterns++;
                Assert.True(XsaveDataRules.ComponentViolation(i, data, 48) is null,
                    $"{cpu.Name}: pattern of component {i} breaks '{XsaveDataRules.ComponentViolation(i, data, 48)}'");
            }
        }
        Assert.True(checkedPatterns > 0);
    }
}
