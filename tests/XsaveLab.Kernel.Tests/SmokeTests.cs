namespace XsaveLab.Kernel.Tests;

public class SmokeTests
{
    [Fact]
    public void Two_tasks_on_one_cpu_keep_their_avx_registers()
    {
        var k = KernelKit.Kernel("spr");
        var rng = new Random(1);
        var a = k.SpawnProcess("a");
        var b = k.SpawnProcess("b");
        k.Schedule(0, a);
        var da = KernelKit.RandomData(k, 2, rng);
        Assert.True(k.UseComponent(a, 2, da).Done);
        var ea = k.ReadComponent(a, 2).ToArray();
        k.Schedule(0, b);
        var db = KernelKit.RandomData(k, 2, rng);
        Assert.True(k.UseComponent(b, 2, db).Done);
        k.Schedule(0, a);
        Assert.Equal(ea, k.ReadComponent(a, 2).ToArray());
        KernelKit.AssertInvariants(k);
        Assert.True(k.Counters.Saves >= 2);
        Assert.Empty(k.Warnings.Entries);
    }
}
