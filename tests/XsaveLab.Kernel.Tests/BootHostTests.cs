namespace XsaveLab.Kernel.Tests;

public class BootHostTests
{
    [SkippableFact]
    public void Boot_of_this_host_prints_exactly_the_kernels_fpu_lines()
    {
        Skip.IfNot(TestEnv.IsX86, "not an x86 machine");
        var dmesg = TestEnv.HostDmesg("x86/fpu:");
        Skip.If(dmesg is null, "dmesg is unreadable or has no x86/fpu: lines (kernel.dmesg_restrict or rotated log)");
        var sys = FpuSystem.Boot(TestEnv.HostProfile(), KernelVariants.V6_17);
        var model = sys.Dmesg.Where(l => l.StartsWith("x86/fpu:", StringComparison.Ordinal)).ToArray();
        Assert.Equal(dmesg!, model);
    }

    [SkippableFact]
    public void Max_sigframe_size_line_and_AT_MINSIGSTKSZ_match_the_host()
    {
        Skip.IfNot(TestEnv.IsX86, "not an x86 machine");
        ulong? min = TestEnv.Auxv(51);
        Skip.If(min is null or 0, "AT_MINSIGSTKSZ (auxv 51) not provided by this kernel");
        bool? ia32 = TestEnv.KernelConfigBool("CONFIG_IA32_EMULATION");
        Skip.If(ia32 is null, "the kernel configuration (/proc/config.gz) is not readable, so the signal frame base size is unknown");
        var sys = FpuSystem.Boot(TestEnv.HostProfile(), KernelVariants.V6_17, new BootOptions { Ia32Emulation = ia32!.Value });
        Assert.Equal((int)min!.Value, sys.MaxFrameSize);
        var line = TestEnv.HostDmesg("signal: max sigframe size:");
        if (line is not null)
            Assert.Contains($"signal: max sigframe size: {sys.MaxFrameSize}", line);
    }

    [SkippableFact]
    public void Host_default_and_guest_sizes_are_derived_from_components()
    {
        Skip.IfNot(TestEnv.IsX86, "not an x86 machine");
        var cpu = TestEnv.HostProfile();
        var sys = FpuSystem.Boot(cpu, KernelVariants.V6_17);
        Skip.IfNot(sys.XsaveEnabled && sys.Compacted, "host has no compacted XSAVE");
        Skip.If((sys.KernelCfg.MaxFeatures & XFeatureMasks.CetKernel) == 0, "host kernel config has no CET_KERNEL (no SHSTK/XSAVES)");
        // The guest default adds exactly CET_KERNEL to the host default; its size is the compacted size
        // with the component appended where XSAVES would place it.
        int cetOffset = XsaveLab.Arch.Layout.XStateGeometry.Offset(cpu, sys.GuestDefaultCfg.Features, (int)XFeature.CetKernel, true);
        Assert.Equal(cetOffset + cpu.Component(12)!.Value.Size, sys.GuestDefaultCfg.Size);
        Assert.Equal(sys.KernelCfg.MaxFeatures & ~XFeatureMasks.XtileData, sys.GuestDefaultCfg.Features);
        Assert.Equal(sys.GuestDefaultCfg.Features & ~XFeatureMasks.CetKernel, sys.KernelCfg.DefaultFeatures);
        Assert.True(sys.KernelCfg.DefaultSize < sys.GuestDefaultCfg.Size);
        // dmesg's context size is the kernel max size and equals what CPUID(0xD,1).EBX reports for XCR0|XSS.
        var (_, ebx, _, _) = System.Runtime.Intrinsics.X86.X86Base.CpuId(0xD, 1);
        Assert.Equal(ebx, sys.KernelCfg.MaxSize);
    }
}
