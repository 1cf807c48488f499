namespace XsaveLab.Host.Tests.Cpu;

/// <summary>The live profile passes the same CPUID validation as a dump: a hypervisor may present values no
/// processor has, and the models must not be built from them.</summary>
public class HostCpuValidationTests
{
    [Fact]
    public void A_profile_the_dump_reader_would_refuse_is_refused_with_the_same_reason()
    {
        var p = CpuCatalog.Get("spr");
        var odd = new CpuProfile(HostCpu.Name, HostCpu.Source,
            p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == (uint)XFeature.Pkru ? l with { Eax = 1 } : l).ToList());
        var problem = CpuProfileValidation.FirstProblem(odd);
        Assert.NotNull(problem);
        string? why = HostCpu.Refusal(odd);
        Assert.NotNull(why);
        Assert.Contains(problem.Message, why);
        Assert.Contains($"CPUID(0x{problem.Leaf:x},{problem.Subleaf})", why);
    }

    [Fact]
    public void Every_catalog_cpu_passes()
    {
        foreach (var e in CpuCatalog.Entries)
            Assert.Null(HostCpu.Refusal(e.Profile));
    }

    [SkippableFact]
    public void This_machine_passes_or_says_why()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64,
            "the live CPU is only read on Linux x86-64");
        bool ok = HostCpu.TryRead(out var p, out var why);
        Assert.Equal(ok, p is not null);
        Assert.Equal(ok, why.Length == 0);
        if (ok)
            Assert.Null(CpuProfileValidation.FirstProblem(p!));
    }
}
