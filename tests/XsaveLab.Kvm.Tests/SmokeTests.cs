namespace XsaveLab.Kvm.Tests;

public class SmokeTests
{
    [Fact]
    public void Spr_run_basic()
    {
        var cpu = TestCpus.Amx()!;
        var sys = TestCpus.System(cpu);
        var v = TestCpus.NewVcpu(sys);
        ulong x = v.GuestSupportedXcr0;
        var r = v.Run(TestCpus.Ops("cr4.osxsave", $"xsetbv 0x{x:x}", "wrmsr IA32_XFD 0", "ldtilecfg", "tileloadd", "wrmsr IA32_XFD 0x40000", "tilerelease", "ldtilecfg", "tileloadd => #NM", "rdmsr IA32_XFD_ERR => 0x40000"));
        Assert.True(r.Result.Ok, r.Result.ToString() + string.Join("\n", r.Guest));
        Assert.True(r.ExpectationsMet, string.Join("\n", r.Guest));
        Assert.Equal(0L, v.GetXsave2(out var img).Value);
        Assert.True(img.Length > 4096);
    }
}
