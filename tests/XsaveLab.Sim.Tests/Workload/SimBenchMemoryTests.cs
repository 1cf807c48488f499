namespace XsaveLab.Sim.Tests.Workload;

/// <summary><c>bench sim</c> reports memory per task against the bound fpstate.size + 64.</summary>
public class SimBenchMemoryTests
{
    [Theory]
    [InlineData("spr")]
    [InlineData("zen5-turin")]
    public void The_bound_is_the_task_fpstate_size_plus_64_and_the_simulators_own_count_meets_it(string cpu)
    {
        var r = SimBench.Run(CpuCatalog.Get(cpu), new SimBenchOptions { Switches = 2000, Runs = 1, MemoryTasks = 20_000 });
        Assert.Equal(r.TaskFpstateBytes + 64, r.BytesPerTaskBound);
        // The heap measurement is shared with whatever else runs in the process; the simulator's own count is exact.
        Assert.True(r.AccountedBytesPerTask >= r.TaskFpstateBytes, $"{r.AccountedBytesPerTask} B per task");
        Assert.True(r.AccountedBytesPerTask <= r.BytesPerTaskBound, $"{r.AccountedBytesPerTask} B per task, bound {r.BytesPerTaskBound}");
    }
}
