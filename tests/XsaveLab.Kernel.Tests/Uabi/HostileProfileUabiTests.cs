using XsaveLab.Arch.Catalog;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Features;
using XsaveLab.Kernel.Boot;
using XsaveLab.Kernel.Tasks;
using XsaveLab.Kernel.Uabi;

namespace XsaveLab.Kernel.Tests.Uabi;

/// <summary>A CPUID dump that puts AVX at offset 0 on a standard-format CPU makes fpstate.size (256) smaller
/// than the legacy area and XSAVE header. The UABI paths once read XSTATE_BV past such a buffer
/// (ArgumentOutOfRangeException in the old UabiFpState.XstateBv); every fpstate now holds the header, and
/// the saves past fpstate.size are reported as model violations instead of being written.</summary>
public class HostileProfileUabiTests
{
    private static FpuSystem AvxAtOffsetZero()
    {
        var p = CpuCatalog.Get("haswell");
        var leaves = p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == (uint)XFeature.Ymm ? l with { Ebx = 0 } : l).ToList();
        var sys = FpuSystem.Boot(new CpuProfile(p.Name + "-avx-at-0", p.Source, leaves));
        Assert.True(sys.XsaveEnabled);
        Assert.True(sys.KernelCfg.DefaultSize < FpuSystem.XregsStateSize, $"default size {sys.KernelCfg.DefaultSize}");
        return sys;
    }

    [Fact]
    public void Ptrace_and_kvm_images_of_an_fpstate_smaller_than_the_header_are_produced_without_throwing()
    {
        var sys = AvxAtOffsetZero();
        var k = new LinuxKernel(sys, 1);
        var cfg = KernelTaskUabi.Config(k);
        var t = k.SpawnProcess("t");
        Assert.True(t.Fpu.FpState.HasXsaveHeader);
        Assert.Equal(sys.KernelCfg.DefaultSize, t.Fpu.FpState.Size);

        var get = KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Xstate, cfg.UserMaxSize);
        Assert.Equal(cfg.UserMaxSize, get.Data.Length);
        // The image's AVX claims bytes 0..255, so the kernel's rules may refuse it; they answer with an errno.
        var set = KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Xstate, get.Data);
        Assert.True(set.Ok || set.Rule.Length > 0, "a refusal names its rule");

        var g = k.FpuAllocGuestFpstate(t);
        Assert.True(g.FpState!.HasXsaveHeader);
        var image = new byte[LinuxKernel.KvmXsaveSize];
        k.FpuCopyGuestFpstateToUabi(g, image, sys.UserCfg.MaxFeatures, 0);
        uint pkru = 0;
        Assert.True(k.FpuCopyUabiToGuestFpstate(g, image, sys.UserCfg.MaxFeatures, ref pkru).Value <= 0);
    }

    // AVX at offset 9: fpstate.size is 265, yet every XSAVE form writes the 576-byte legacy area and header.
    // The task model once ran the save into the short buffer (ArgumentException); it now reports the breach.
    [Fact]
    public void A_save_that_would_write_the_header_past_fpstate_size_is_a_reported_violation()
    {
        var p = CpuCatalog.Get("haswell");
        var leaves = p.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == (uint)XFeature.Ymm ? l with { Ebx = 9 } : l).ToList();
        var sys = FpuSystem.Boot(new CpuProfile(p.Name + "-avx-at-9", p.Source, leaves));
        Assert.True(sys.KernelCfg.DefaultSize < FpuSystem.XregsStateSize, $"default size {sys.KernelCfg.DefaultSize}");
        var k = new LinuxKernel(sys, 1);
        var a = k.SpawnProcess("a");
        var b = k.SpawnProcess("b");
        k.Schedule(0, a);
        k.Schedule(0, b);
        Assert.Contains(k.Violations, v => v.Contains($"has {sys.KernelCfg.DefaultSize}"));
    }
}
