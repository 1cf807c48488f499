namespace XsaveLab.Host.Tests.Linux;

public class AuxvTests
{
    [SkippableFact]
    public void AT_MINSIGSTKSZ_from_proc_self_auxv_equals_getauxval_and_sysconf()
    {
        HostFacts.SkipUnlessXsaveLinux();
        ulong? raw = Auxv.SelfValue(Auxv.AtMinSigStkSz);
        Skip.If(raw is null, "the kernel does not pass AT_MINSIGSTKSZ (before 5.14)");
        var (aux, _) = Auxv.GetAuxval(Auxv.AtMinSigStkSz);
        Assert.Equal(raw.Value, aux);
        var (sc, err) = Auxv.Sysconf(Auxv.ScMinSigStkSz);
        Skip.If(sc < 0, $"libc has no _SC_MINSIGSTKSZ ({ErrnoNames.Name(err)})");
        Assert.Equal((long)raw.Value, sc);
    }

    [SkippableFact]
    public void AT_MINSIGSTKSZ_holds_the_user_xstate_and_its_magic()
    {
        HostFacts.SkipUnlessXsaveLinux();
        ulong? raw = Auxv.SelfValue(Auxv.AtMinSigStkSz);
        Skip.If(raw is null, "the kernel does not pass AT_MINSIGSTKSZ");
        // get_sigframe_size() includes fpu__get_fpstate_size() = user max size + FP_XSTATE_MAGIC2_SIZE.
        Assert.True(raw.Value >= (ulong)UserXstateLayout.FromHost().Size + 4, $"AT_MINSIGSTKSZ {raw}");
        Assert.Equal(0UL, raw.Value % 16);
    }

    [SkippableFact]
    public void Raw_AT_HWCAP_is_cpuid_1_edx()
    {
        HostFacts.SkipUnlessXsaveLinux();
        // ELF_HWCAP = boot_cpu_data.x86_capability[CPUID_1_EDX].
        ulong? hwcap = Auxv.SelfValue(Auxv.AtHwcap);
        Assert.NotNull(hwcap);
        Assert.Equal((ulong)(uint)X86Base.CpuId(1, 0).Edx, hwcap.Value);
    }

    [Fact]
    public void Parse_stops_at_AT_NULL()
    {
        var bytes = new byte[64];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), 51UL);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), 3376UL);
        BitConverter.TryWriteBytes(bytes.AsSpan(32), 16UL); // after AT_NULL at 16: ignored
        var list = Auxv.Parse(bytes);
        Assert.Equal([new AuxvEntry(51, 3376)], list);
    }
}
