namespace XsaveLab.Kernel.Tests.CpuidFuzz;

/// <summary>A CPU the task layer cannot model is bad input (<see cref="CpuProfileFormatException"/>, which the
/// commands report as an error with exit 2), not an InvalidOperation/NotSupported crash.</summary>
public class LinuxKernelRefusalTests
{
    private static CpuProfile Edited(string cpu, uint leaf, uint sub, Func<CpuidLeaf, CpuidLeaf> edit)
    {
        var p = CpuCatalog.Get(cpu);
        return new CpuProfile(p.Name + "-edited", "edited.txt", p.Leaves.Select(l => l.Leaf == leaf && l.Subleaf == sub ? edit(l) : l));
    }

    [Fact]
    public void CpuWithoutFxsr_IsBadInput()
    {
        var p = Edited("haswell", 1, 0, l => l with { Edx = l.Edx & ~(1u << 24) });
        var sys = FpuSystem.Boot(p);
        var e = Assert.Throws<CpuProfileFormatException>(() => new LinuxKernel(sys, 1));
        Assert.Equal("edited.txt", e.File);
        Assert.Contains("FXSR", e.Problem);
    }

    [Theory]
    [InlineData(0x000602A7u)] // AVX-512 without opmask
    [InlineData(0x000202E7u)] // XTILECFG without XTILEDATA
    public void XcrZeroTheKernelCannotSet_IsBadInput(uint xcr0)
    {
        var p = Edited("spr", 0xD, 0, l => l with { Eax = xcr0 });
        Assert.Null(CpuProfileValidation.FirstProblem(p)); // bounded: layout and sanity still answer
        var sys = FpuSystem.Boot(p);
        var e = Assert.Throws<CpuProfileFormatException>(() => new LinuxKernel(sys, 1));
        Assert.Contains("#GP", e.Problem);
    }

    [Fact]
    public void CatalogCpus_AreNotRefused()
    {
        foreach (var p in CpuCatalog.All.Where(p => p.Has(XsaveLab.Arch.Features.CpuFeature.Fxsr)))
            Assert.NotNull(new LinuxKernel(FpuSystem.Boot(p), 1));
    }
}
