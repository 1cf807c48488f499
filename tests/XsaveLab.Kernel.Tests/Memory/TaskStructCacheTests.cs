using XsaveLab.Kernel.Memory;

namespace XsaveLab.Kernel.Tests.Memory;

/// <summary><c>fpu__init_task_struct_size()</c> and the vzalloc()'ed fpstates.</summary>
public class TaskStructCacheTests
{
    /// <summary>81106b7e0b13 moved struct fpu out of task_struct: a build before it and one after it, with the
    /// same members, give the same arch_task_struct_size.</summary>
    [Theory]
    [InlineData("zen5-turin")]
    [InlineData("spr")]
    [InlineData("haswell")]
    public void Object_size_is_the_same_sum_with_struct_fpu_inside_or_after_the_task(string cpu)
    {
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu(cpu), KernelVariants.V6_17);
        const int task = 3264, fpu = 4224;
        var after = TaskStructSizes.Given(task, fpu, "after");
        var inside = TaskStructSizes.Given(task + fpu, null, "inside");
        Assert.Equal(TaskStructCache.Of(sys, after, SlubParams.Default), TaskStructCache.Of(sys, inside, SlubParams.Default));
        // The register state is the boot's size, not the page-sized union: object = the rest + default_size.
        Assert.Equal(task + fpu - TaskStructSizes.FpregsStateBytes + sys.KernelCfg.DefaultSize, TaskStructCache.Of(sys, after, SlubParams.Default).ArchTaskStructSize);
    }

    /// <summary>Case 3 adds CET_S to every task's default features; the object grows by exactly the fpstate
    /// growth (both come from the same default_size).</summary>
    [Fact]
    public void Case_3_grows_the_object_by_its_fpstate_growth()
    {
        var cpu = TestEnv.CatalogCpu("zen5-turin");
        var sizes = TaskStructSizes.Given(3264, 4224, "test");
        var c2 = TaskStructCache.Of(FpuSystem.Boot(cpu, KernelVariants.V6_17), sizes, SlubParams.Default);
        var c3 = TaskStructCache.Of(FpuSystem.Boot(cpu, KernelVariants.Case3), sizes, SlubParams.Default);
        Assert.True(c3.DefaultSize > c2.DefaultSize);
        Assert.Equal(c3.DefaultSize - c2.DefaultSize, c3.ArchTaskStructSize - c2.ArchTaskStructSize);
    }

    /// <summary>vzalloc() maps whole pages: one byte over a page boundary is one more page.</summary>
    [Fact]
    public void Fpstate_pages_round_header_and_registers_up_to_pages()
    {
        int onePage = SlubRules.PageSize - FpstateAllocation.HeaderBytes;
        Assert.Equal(1, FpstateAllocation.Pages(onePage));
        Assert.Equal(2, FpstateAllocation.Pages(onePage + 1));
        Assert.Equal(SlubRules.PageSize, FpstateAllocation.Bytes(onePage));
    }

    [Fact]
    public void Given_sizes_that_cannot_be_a_build_are_refused_with_the_field()
    {
        Assert.Equal((false, $"0 is outside 1..{TaskStructSizes.MaxStructBytes}"), TaskStructSizes.Problem(0, null)!.Value);
        Assert.True(TaskStructSizes.Problem(3264, 4096)!.Value.Fpu);
        Assert.False(TaskStructSizes.Problem(3264, null)!.Value.Fpu);
        Assert.Null(TaskStructSizes.Problem(3264, 4224));
        Assert.Throws<ArgumentOutOfRangeException>(() => TaskStructSizes.Given(100, null, "x"));
    }

    /// <summary>6.1 and 6.6 have the SLUB order rules before 6.7; every later variant the 6.7 ones. The struct fpu
    /// placement follows 81106b7e0b13 (6.16).</summary>
    [Fact]
    public void Variants_carry_the_release_s_rules()
    {
        Assert.Equal(SlubOrderRules.MinObjectsLoop, KernelVariants.V6_1.SlubOrder);
        Assert.Equal(SlubOrderRules.MinObjectsLoop, KernelVariants.V6_6.SlubOrder);
        Assert.All(new[] { KernelVariants.V6_12, KernelVariants.V6_15, KernelVariants.V6_16, KernelVariants.V6_17 }, v => Assert.Equal(SlubOrderRules.HalfWaste, v.SlubOrder));
        Assert.All(new[] { KernelVariants.V6_1, KernelVariants.V6_6, KernelVariants.V6_12, KernelVariants.V6_15 }, v => Assert.False(v.FpuAppendedToTask));
        Assert.All(new[] { KernelVariants.V6_16, KernelVariants.V6_17, KernelVariants.Case3, KernelVariants.Deferred }, v => Assert.True(v.FpuAppendedToTask));
    }
}
