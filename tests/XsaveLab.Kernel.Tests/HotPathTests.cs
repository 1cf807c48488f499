namespace XsaveLab.Kernel.Tests;

/// <summary>The context-switch path is what the simulator drives millions of times: it must not allocate.</summary>
public class HotPathTests
{
    [Theory]
    [InlineData("spr")]
    [InlineData("zen4-genoa")]
    [InlineData("haswell")]
    [InlineData("nehalem")]
    public void Schedule_and_deschedule_do_not_allocate(string cpu)
    {
        var k = KernelKit.Kernel(cpu, cpus: 2);
        var a = k.SpawnProcess("a");
        var b = k.SpawnProcess("b");
        var data = KernelKit.RandomData(k, 1, new Random(1));
        // Warm up every path once (first restores, JIT).
        for (int i = 0; i < 4; i++)
        {
            k.Schedule(i % 2, a);
            k.UseComponent(a, 1, data);
            k.Deschedule(i % 2);
            k.Schedule(i % 2, b);
            k.Deschedule(i % 2);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            k.Schedule(i % 2, a);
            k.UseComponent(a, 1, data);
            k.Schedule(i % 2, b);
            k.Deschedule(i % 2);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(k.Counters.Saves >= 2000);
    }
}
