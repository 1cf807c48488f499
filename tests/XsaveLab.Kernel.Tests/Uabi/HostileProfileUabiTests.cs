namespace XsaveLab.Kernel.Tests.Uabi;

/// <summary>A CPUID dump that puts AVX inside the legacy area and XSAVE header (standard offset 0 or 9 on a
/// standard-format CPU) makes fpstate.size smaller than the 576 bytes every XSAVE form writes. The UABI paths
/// once read XSTATE_BV past such a buffer (ArgumentOutOfRangeException) and the task model ran saves into it.
/// Such a profile is now refused before anything is built from it: by the dump validation that every reader
/// applies, and by the instruction model for a profile built through the API.</summary>
public class HostileProfileUabiTests
{
    [Theory]
    [InlineData(0u)]
    [InlineData(9u)]
    public void Avx_inside_the_legacy_area_and_header_is_refused_before_an_fpstate_is_sized_from_it(uint offset)
    {
        var p = CpuCatalog.Get("haswell");
        var leaves = p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == (uint)XFeature.Ymm ? l with { Ebx = offset } : l).ToList();
        var hostile = new CpuProfile($"{p.Name}-avx-at-{offset}", p.Source, leaves);

        var problem = CpuProfileValidation.FirstProblem(hostile);
        Assert.NotNull(problem);
        Assert.Contains("AVX", problem.ToString());
        var e = Assert.ThrowsAny<ArgumentException>(() => FpuSystem.Boot(hostile));
        Assert.Contains("legacy region and XSAVE header", e.Message);
    }
}
