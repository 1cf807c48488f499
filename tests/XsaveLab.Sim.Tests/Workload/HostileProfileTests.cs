using XsaveLab.Arch.Catalog;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Features;
using XsaveLab.Kernel.Boot;
using XsaveLab.Sim.Workload;

namespace XsaveLab.Sim.Tests.Workload;

/// <summary>CPUID dumps that claim impossible component sizes or offsets: the simulator refuses them up front
/// or runs, and never throws from inside.</summary>
public class HostileProfileTests
{
    private static CpuProfile With(string cpu, uint sub, Func<CpuidLeaf, CpuidLeaf> edit)
    {
        var p = CpuCatalog.Get(cpu);
        return new(p.Name + "-edited", p.Source, p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == sub ? edit(l) : l).ToList());
    }

    // Each component shrunk below the registers it holds (PKRU is 32 bits; CET_U holds IA32_U_CET and
    // IA32_PL3_SSP, CET_S three SSPs: SDM Vol.1 §13.5): once ArgumentOutOfRangeException in ComponentPatterns.For.
    [Theory]
    [InlineData("spr", XFeature.Pkru, 2u)]
    [InlineData("spr", XFeature.CetUser, 12u)]
    [InlineData("spr", XFeature.CetKernel, 4u)]
    [InlineData("skx", XFeature.Pkru, 0u)]
    public void A_component_too_small_for_its_registers_gets_no_image_and_the_simulator_still_runs(string cpu, XFeature feature, uint size)
    {
        var sys = FpuSystem.Boot(With(cpu, (uint)feature, l => l with { Eax = size }));
        var patterns = ComponentPatterns.For(sys);
        Assert.Null(patterns[(int)feature]);
        Assert.NotNull(patterns[(int)XFeature.Sse]);
        Assert.Null(Simulator.Unsupported(sys));
        var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = 1, Vcpus = 1, AmxUsers = 1 });
        Assert.True(sim.Run(200).Switches > 0);
    }

    // AVX claimed at offset 0 on a standard-format CPU: the default fpstate would be 256 bytes, smaller than
    // the legacy area and header every XSAVE buffer has. Once ArgumentException in Simulator.InitFpstate.
    [Fact]
    public void An_fpstate_smaller_than_the_xsave_header_is_refused_up_front_with_the_reason()
    {
        var sys = FpuSystem.Boot(With("haswell", (uint)XFeature.Ymm, l => l with { Ebx = 0 }));
        Assert.True(sys.XsaveEnabled);
        Assert.True(sys.KernelCfg.DefaultSize < FpuSystem.XregsStateSize);
        string? why = Simulator.Unsupported(sys);
        Assert.NotNull(why);
        Assert.Contains($"{sys.KernelCfg.DefaultSize} bytes", why);
        var e = Assert.Throws<NotSupportedException>(() => new Simulator(sys, new WorkloadSpec()));
        Assert.Equal(why, e.Message);
    }
}
