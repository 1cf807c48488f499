namespace XsaveLab.Host.Tests.Cpu;

/// <summary>The model's layout of the live CPU against what this machine's kernel printed at boot.</summary>
public class HostCpuTests
{
    private static CpuProfile ReadHost()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64,
            "the live CPU is only read on Linux x86-64");
        Assert.True(HostCpu.TryRead(out var p, out var why), why);
        return p!;
    }

    private static KernelFpuLog ReadKernelLog()
    {
        Skip.IfNot(KernelLog.TryRead(out var log, out var why), $"kernel log not usable: {why}");
        return log!;
    }

    [SkippableFact]
    public void TryRead_GivesAProfileNamedHost_WithTheLeavesACompactProfileKeeps()
    {
        var p = ReadHost();
        Assert.Equal("host", p.Name);
        Assert.Equal("live CPUID", p.Source);
        Assert.All(p.Leaves, l => Assert.True(CpuidTextWriter.IsRelevant(l), $"leaf {l} is not a profile leaf"));
        Assert.NotEqual(CpuVendor.Unknown, p.Vendor);
        // A compact profile of the host reads back to the same profile.
        var back = CpuidTextReader.Parse(CpuidTextWriter.Write(p), "host.cpuid");
        Assert.Equal(p.Leaves, back.Leaves);
    }

    [SkippableFact]
    public void TryRead_NotOnLinuxX64_SaysWhy()
    {
        Skip.If(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64,
            "this machine is Linux x86-64, where the host is readable");
        Assert.False(HostCpu.TryRead(out var p, out var why));
        Assert.Null(p);
        Assert.NotEmpty(why);
    }

    [SkippableFact]
    public void Layout_CompactedOffsetsForXcr0AndXss_EqualTheKernelBootLog()
    {
        var cpu = ReadHost();
        Skip.IfNot(cpu.HasXsaves, "the host has no XSAVES, so the kernel uses the standard format");
        var log = ReadKernelLog();
        Skip.If(log.EnabledFeatures is null || log.Offsets.Count == 0, "the kernel log lacks the xstate_offset/Enabled lines");
        Assert.Equal("compacted", log.Format);

        ulong enabled = log.EnabledFeatures!.Value;
        var view = LayoutView.Create(cpu, enabled & cpu.SupportedXcr0, enabled & cpu.SupportedXss);
        foreach (var (nr, (offset, size)) in log.Offsets)
        {
            var row = view.Components.SingleOrDefault(c => c.Number == nr);
            Assert.True(row is not null, $"the kernel placed component {nr}, the model has no row for it");
            Assert.True(offset == row!.CompactedOffset, $"component {nr}: kernel offset {offset}, model {row.CompactedOffset}");
            Assert.True(size == row.Size, $"component {nr}: kernel size {size}, model {row.Size}");
        }
        Assert.Equal(log.ContextSize, view.CompactedWithSupervisorSize);
        // Every extended component the kernel enabled is printed, and no other.
        Assert.Equal(view.Components.Where(c => c.Number >= 2).Select(c => c.Number).Order(), log.Offsets.Keys.Order());
    }

    [SkippableFact]
    public void Layout_StandardSize_EqualsCpuidEbxForTheKernelsXcr0()
    {
        var cpu = ReadHost();
        Skip.IfNot(cpu.HasXsave, "the host has no XSAVE");
        var log = ReadKernelLog();
        Skip.If(log.EnabledFeatures is null, "the kernel log lacks the 'Enabled xstate features' line");
        // CPUID(0xD,0).EBX is the standard size for the XCR0 the kernel set, i.e. its enabled user features.
        var view = LayoutView.Create(cpu, log.EnabledFeatures!.Value & cpu.SupportedXcr0, 0);
        Assert.Equal((int)cpu.Leaf(0xD, 0).Ebx, view.StandardSize);
    }

    [SkippableFact]
    public void Layout_DefaultMasks_MatchCpuidEcxAndSanityHasNoErrors()
    {
        var cpu = ReadHost();
        Skip.IfNot(cpu.HasXsave, "the host has no XSAVE");
        Assert.Equal((int)cpu.Leaf(0xD, 0).Ecx, LayoutView.Create(cpu).StandardSize);
        Assert.DoesNotContain(ProfileSanity.Check(cpu), f => f.Severity == FindingSeverity.Error);
    }
}
