namespace XsaveLab.Sim.Tests.Experiment;

/// <summary>The CET-S experiment asks <see cref="Simulator.Unsupported"/> before it builds a simulator, so a CPU the
/// simulator cannot model gives a reason (a note, or a refusal of the CPU) instead of a NotSupportedException from
/// inside the run, which the CLI reported as an internal error.</summary>
public class UnmodellableCpuTests
{
    // Haswell with CPUID.1:ECX[26] (XSAVE) clear: a valid dump the simulator cannot run on.
    private static CpuProfile WithoutXsave()
    {
        var p = CpuCatalog.Get("haswell");
        var edited = new CpuProfile(p.Name + "-no-xsave", p.Source, p.Leaves.Select(l => l.Leaf == 1 ? l with { Ecx = l.Ecx & ~(1u << 26) } : l).ToList());
        Assert.Null(CpuProfileValidation.FirstProblem(edited));
        return edited;
    }

    [Fact]
    public void The_fixed_part_split_is_unknown_rather_than_a_crash()
    {
        var cpu = WithoutXsave();
        Assert.NotNull(Simulator.Unsupported(FpuSystem.Boot(cpu, KernelVariants.V6_17)));
        Assert.Throws<NotSupportedException>(() => new Simulator(FpuSystem.Boot(cpu, KernelVariants.V6_17), new WorkloadSpec()));
        var m = new ContextSwitchMeasurement(PingPongMode.Threads, VectorState.AsIs, 0, null, [1e6], 1e6, 0, 0, 1000);
        Assert.Null(CetSExperiment.FixedPartNs(new CostModel(ReferenceCostModel.Load()), m, cpu));
    }

    [Fact]
    public void The_experiment_notes_each_variant_it_cannot_simulate_and_still_answers()
    {
        var r = CetSRunner.Run(WithoutXsave(), false, new CetSRunOptions { Measure = false });
        Assert.Empty(r.Variants);
        Assert.Equal(CetSExperiment.Variants.Count, r.Notes.Count(n => n.Contains("has no XSAVE", StringComparison.Ordinal)));
    }
}
