namespace XsaveLab.Sim.Tests.Workload;

/// <summary>CPUID dumps that claim impossible component sizes or offsets once crashed the simulator
/// (ArgumentOutOfRangeException in ComponentPatterns.For, ArgumentException in Simulator.InitFpstate). They are
/// now refused before a simulator can be built from them: by the dump validation every reader applies (an
/// error naming the component) and by the instruction model for a profile built through the API.</summary>
public class HostileProfileTests
{
    private static CpuProfile With(string cpu, uint sub, Func<CpuidLeaf, CpuidLeaf> edit)
    {
        var p = CpuCatalog.Get(cpu);
        return new(p.Name + "-edited", p.Source, p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == sub ? edit(l) : l).ToList());
    }

    private static void AssertRefused(CpuProfile hostile, string component)
    {
        var problem = CpuProfileValidation.FirstProblem(hostile);
        Assert.NotNull(problem);
        Assert.Contains(component, problem.ToString());
        Assert.ThrowsAny<ArgumentException>(() => FpuSystem.Boot(hostile));
    }

    // Each component shrunk below the registers it holds (PKRU is 32 bits; CET_U holds IA32_U_CET and
    // IA32_PL3_SSP, CET_S three SSPs: SDM Vol.1 §13.5).
    [Theory]
    [InlineData("spr", XFeature.Pkru, 2u, "PKRU")]
    [InlineData("spr", XFeature.CetUser, 12u, "CET")]
    [InlineData("spr", XFeature.CetKernel, 4u, "CET")]
    [InlineData("skx", XFeature.Pkru, 0u, "PKRU")]
    public void A_component_too_small_for_its_registers_is_refused_up_front(string cpu, XFeature feature, uint size, string name) =>
        AssertRefused(With(cpu, (uint)feature, l => l with { Eax = size }), name);

    // AVX claimed at offset 0 on a standard-format CPU: the default fpstate would be 256 bytes, smaller than
    // the legacy area and header every XSAVE buffer has.
    [Fact]
    public void An_fpstate_smaller_than_the_xsave_header_is_refused_up_front_with_the_reason() =>
        AssertRefused(With("haswell", (uint)XFeature.Ymm, l => l with { Ebx = 0 }), "AVX");
}
