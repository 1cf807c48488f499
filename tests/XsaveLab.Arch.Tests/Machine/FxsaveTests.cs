namespace XsaveLab.Arch.Tests.Machine;

public class FxsaveTests
{
    [Fact]
    public void Fxsave_writes_the_legacy_region_like_xsave_of_x87_and_sse()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        TestCpus.Randomize(cpu, new Random(5), 0);
        var fx = new byte[512];
        var xs = new byte[16384];
        fx.AsSpan().Fill(0xCC);
        xs.AsSpan().Fill(0xCC);
        Assert.False(cpu.Fxsave(fx, 0x1010).IsFault);
        Assert.False(cpu.Xsave(xs, 0x1000, XFeatureMasks.FpSse).IsFault);
        Assert.Equal(xs.AsSpan(0, 512).ToArray(), fx);
        Assert.True(fx.AsSpan(416).IndexOfAnyExcept((byte)0xCC) < 0);
    }

    [Fact]
    public void Fxrstor_loads_x87_mxcsr_and_xmm_and_round_trips()
    {
        var a = TestCpus.Booted(TestCpus.Spr());
        TestCpus.Randomize(a, new Random(6), 0);
        var fx = new byte[512];
        Assert.False(a.Fxsave(fx, 0x2000).IsFault);
        var b = TestCpus.Booted(TestCpus.Spr());
        Assert.False(b.Fxrstor(fx, 0x2000).IsFault);
        Assert.Equal(a.Read(0).ToArray(), b.Read(0).ToArray());
        Assert.Equal(a.Read(1).ToArray(), b.Read(1).ToArray());
        Assert.Equal(a.Mxcsr, b.Mxcsr);
        Assert.Equal(XFeatureMasks.FpSse, b.XinUse & XFeatureMasks.FpSse);
    }

    [Fact]
    public void Fxrstor_faults_on_mxcsr_reserved_bits_and_misalignment()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        var fx = new byte[512];
        Assert.False(cpu.Fxsave(fx, 0x2000).IsFault);
        Assert.Equal(FaultKind.GeneralProtection, cpu.Fxrstor(fx, 0x2008).Kind);
        BinaryPrimitives.WriteUInt32LittleEndian(fx.AsSpan(24), ~cpu.MxcsrMask);
        var f = cpu.Fxrstor(fx, 0x2000);
        Assert.Equal(FaultKind.GeneralProtection, f.Kind);
        Assert.Equal(XsaveRules.MxcsrReserved, f.Rule);
        Assert.Equal(XsaveCpu.InitMxcsr, cpu.Mxcsr);
    }

    [Fact]
    public void Fxsave_needs_fxsr_and_faults_with_cr0_ts()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        cpu.Cr0Ts = true;
        Assert.Equal(FaultKind.DeviceNotAvailable, cpu.Fxsave(new byte[512], 0).Kind);
        var old = new XsaveCpu(new Arch.Cpuid.CpuProfile("no-fxsr", "synthetic", [new(0, 0, 1, 0, 0, 0), new(1, 0, 0x600, 0, 0, 1)]));
        Assert.Equal(FaultKind.InvalidOpcode, old.Fxsave(new byte[512], 0).Kind);
    }
}
