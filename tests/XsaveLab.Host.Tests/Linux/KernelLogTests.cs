namespace XsaveLab.Host.Tests.Linux;

public class KernelLogTests
{
    [Fact]
    public void Parse_DmesgAndKmsgForms_StripPrefixesAndReadNumbers()
    {
        string[] raw =
        [
            "[    0.250039] x86/fpu: Supporting XSAVE feature 0x004: 'AVX registers'",
            "6,101,250044,-;x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256",
            "[    0.250054] x86/fpu: xstate_offset[12]: 2448, xstate_sizes[12]:   24",
            "[    0.250054] x86/fpu: Enabled xstate features 0x18e7, context size is 2472 bytes, using 'compacted' format.",
            "[    0.300000] pci 0000:00:00.0: unrelated",
        ];
        var log = KernelFpuLog.Parse(raw);
        Assert.Equal(4, log.Lines.Count);
        Assert.All(log.Lines, l => Assert.StartsWith("x86/fpu:", l));
        Assert.Equal((576, 256), log.Offsets[2]);
        Assert.Equal((2448, 24), log.Offsets[12]);
        Assert.Equal(0x18e7UL, log.EnabledFeatures);
        Assert.Equal(2472, log.ContextSize);
        Assert.Equal("compacted", log.Format);
    }

    [SkippableTheory]
    [InlineData(KernelLogSource.Dmesg)]
    [InlineData(KernelLogSource.Kmsg)]
    public void TryReadFpuLines_OnThisMachine_ReturnsLinesOrAReason(KernelLogSource source)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the kernel log is a Linux thing");
        bool ok = KernelLog.TryReadFpuLines(out var lines, out var why, source);
        Skip.IfNot(ok, $"kernel log not readable here: {why}");
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.StartsWith(KernelLog.Prefix, l));
        Assert.Empty(why);
        Assert.Contains(lines, l => l.Contains("Enabled xstate features", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void DmesgAndKmsg_AgreeOnTheFpuLines()
    {
        Skip.IfNot(KernelLog.TryReadFpuLines(out var a, out var whyA, KernelLogSource.Dmesg), $"dmesg: {whyA}");
        Skip.IfNot(KernelLog.TryReadFpuLines(out var b, out var whyB, KernelLogSource.Kmsg), $"/dev/kmsg: {whyB}");
        Assert.Equal(a, b);
    }
}
