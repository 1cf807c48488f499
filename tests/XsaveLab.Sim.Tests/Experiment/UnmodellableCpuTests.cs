using XsaveLab.Arch.Catalog;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Features;
using XsaveLab.Kernel.Boot;
using XsaveLab.Kernel.Variants;
using XsaveLab.Sim.Cost;
using XsaveLab.Sim.Experiment;
using XsaveLab.Sim.Workload;

namespace XsaveLab.Sim.Tests.Experiment;

/// <summary>The CET-S experiment on a CPU whose buffers the simulator cannot hand out (once a
/// NotSupportedException from inside the run, which the CLI reported as an internal error): a refusal of the CPU,
/// naming it and the simulator's reason.</summary>
public class UnmodellableCpuTests
{
    // AVX claimed at standard offset 0: the default fpstate would be smaller than the legacy area and header.
    // The dump reader refuses this profile; built directly, it reaches the experiment.
    private static CpuProfile AvxAtOffsetZero()
    {
        var p = CpuCatalog.Get("haswell");
        return new(p.Name + "-avx-at-0", p.Source,
            p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == (uint)XFeature.Ymm ? l with { Ebx = 0 } : l).ToList());
    }

    [Fact]
    public void The_experiment_refuses_the_cpu_with_the_simulators_reason()
    {
        var cpu = AvxAtOffsetZero();
        var why = Simulator.Unsupported(FpuSystem.Boot(cpu, KernelVariants.V6_15));
        Assert.NotNull(why);
        var e = Assert.Throws<CpuProfileFormatException>(() => CetSExperiment.Run(cpu, new CetSOptions { SimulatedSwitches = 100 }));
        Assert.Equal(cpu.Source, e.File);
        Assert.Contains(why, e.Problem);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_runner_used_by_the_cli_refuses_it_the_same_way()
    {
        var e = Assert.Throws<CpuProfileFormatException>(() => CetSRunner.Run(AvxAtOffsetZero(), false, new CetSRunOptions()));
        Assert.Contains("cannot model this CPU", e.Problem);
    }

    [Fact]
    public void The_fixed_part_split_is_unknown_rather_than_a_crash()
    {
        var cost = new CostModel(ReferenceCostModel.Load());
        var m = new Measure.ContextSwitchMeasurement(Measure.PingPongMode.Threads, Measure.VectorState.AsIs, 0, null, [1e6], 1e6, 0, 0, 1000);
        Assert.Null(CetSExperiment.FixedPartNs(cost, m, AvxAtOffsetZero()));
    }
}
