namespace XsaveLab.Kvm.Tests;

/// <summary>The KVM model against this machine's /dev/kvm (skipped with the reason where it cannot be opened).</summary>

public class LiveKvmTests
{
    /// <summary>This machine's CPU; skips the test where /dev/kvm cannot be opened.</summary>
    private static CpuProfile LiveCpu()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "not Linux");
        using (var dev = KvmDevice.TryOpen(out int errno))
            Skip.If(dev is null, $"/dev/kvm cannot be opened (errno {errno})");
        Skip.IfNot(HostCpu.TryRead(out var cpu, out var why), why);
        return cpu!;
    }

    [SkippableFact]
    public void Live_kvm_matches_the_model_or_differs_only_by_explained_flavour_prunes()
    {
        var cpu = LiveCpu();
        var obs = new KvmChecks().Run(cpu);
        var bad = obs.Where(o => o.Status == ObservableStatus.Mismatch).ToArray();
        Assert.True(bad.Length == 0, string.Join("\n", bad.Select(o => $"{o.Name}: model {o.Model}, live {o.Actual} {o.Reason}")));
        Assert.All(obs.Where(o => o.Status == ObservableStatus.Explained), o => Assert.False(string.IsNullOrWhiteSpace(o.Reason)));
        Assert.Contains(obs, o => o.Name.Contains("header 512..575", StringComparison.Ordinal) && o.Status == ObservableStatus.Match);
        Assert.Contains(obs, o => o.Name.StartsWith("KVM_SET_XSAVE/GET_XSAVE2 round trip", StringComparison.Ordinal) && o.Status == ObservableStatus.Match);
        // A flavour other than upstream must name each withheld capability.
        var fl = obs.Single(o => o.Name == "kvm flavour");
        if (fl.Actual != "upstream")
            Assert.Contains(obs, o => o.Name.StartsWith("kvm flavour: ", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Live_checks_leave_no_kvm_fd_open()
    {
        var cpu = LiveCpu();
        int Count() => Directory.GetFiles("/proc/self/fd").Count(f =>
        {
            try { return new FileInfo(f).LinkTarget?.Contains("kvm", StringComparison.Ordinal) == true; }
            catch (IOException) { return false; }
        });
        int before = Count();
        new KvmChecks().Run(cpu);
        Assert.Equal(before, Count());
    }
}

public class FlavourDetectorTests
{
    [Theory]
    [InlineData("spr")]
    [InlineData("zen5-turin")]
    public void A_pvm_shaped_table_is_recognised_and_an_upstream_one_is_not(string name)
    {
        var cpu = TestCpus.Get(name);
        var up = new Vm.KvmSystem(KvmSettings.For(cpu));
        var pvm = new Vm.KvmSystem(KvmSettings.For(cpu, flavour: Caps.KvmFlavour.Pvm));
        static IReadOnlyList<KvmCpuidEntry> Live(IReadOnlyList<Caps.CpuidEntry> e) =>
            e.Select(x => new KvmCpuidEntry(x.Function, x.Index, x.Flags, x.Eax, x.Ebx, x.Ecx, x.Edx)).ToArray();
        var upCpuid = up.GetSupportedCpuid();
        Assert.Equal("upstream", KvmFlavourDetector.Derive(up.Caps, upCpuid, Live(upCpuid), up.GetMsrIndexList().ToArray(), false).Name);
        var f = KvmFlavourDetector.Derive(up.Caps, upCpuid, Live(pvm.GetSupportedCpuid()), pvm.GetMsrIndexList().ToArray(), true);
        Assert.Equal("pvm", f.Name);
        Assert.True(f.PruneD1Eax);
        Assert.Equal(up.Caps.Shstk, f.PruneCet);
        // Without the kvm_pvm module the same differences are unexplained.
        Assert.Equal("unknown", KvmFlavourDetector.Derive(up.Caps, upCpuid, Live(pvm.GetSupportedCpuid()), pvm.GetMsrIndexList().ToArray(), false).Name);
    }
}
