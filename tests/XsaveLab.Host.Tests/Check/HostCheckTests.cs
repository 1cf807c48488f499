namespace XsaveLab.Host.Tests.Check;

/// <summary>Host check runs child processes, ptrace stops and gdb: alone, so that timing-sensitive native tests
/// (XSAVEOPT's modified optimisation is lost on a context switch) do not run beside it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostCheckCollection
{
    public const string Name = "host check";
}

/// <summary>The <c>host check</c> observables as tests: every group must match this machine, or skip with the
/// reason the machine gives.</summary>
[Collection(HostCheckCollection.Name)]
public sealed class HostCheckTests(ITestOutputHelper output)
{
    private static readonly Lazy<HostCheckReport?> Full = new(() =>
    {
        if (!HostFacts.IsLinuxX64)
            return null;
        string dll = Path.Combine(AppContext.BaseDirectory, "XsaveLab.Host.Child.dll");
        var launcher = File.Exists(dll) ? XsaveLab.Host.Linux.ChildLauncher.ForAssembly(dll) : null;
        return HostCheck.Run(new HostCheckOptions(launcher));
    });

    private void AssertGroup(Func<Observable, bool> select, string what)
    {
        Skip.IfNot(HostFacts.IsLinuxX64, "needs Linux on x86-64");
        var obs = Full.Value!.Observables.Where(select).ToList();
        foreach (var o in obs)
            output.WriteLine($"{o.Status,-9} {o.Name}: model {o.Model} | kernel {o.Actual} {(o.Reason.Length > 0 ? "— " + o.Reason : "")}");
        Skip.If(obs.Count == 0, $"{what}: no observables");
        var skipped = obs.Where(o => o.Status == ObservableStatus.Skipped).ToList();
        Skip.If(skipped.Count == obs.Count, $"{what}: {(skipped.Count > 0 ? skipped[0].Reason : "")}");
        var bad = obs.Where(o => o.Status == ObservableStatus.Mismatch).ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad.Select(o => $"{o.Name}: model {o.Model} | kernel {o.Actual} ({o.Reason})")));
    }

    [SkippableFact]
    public void Boot_log_lines_match() => AssertGroup(o => o.Name.StartsWith("dmesg", StringComparison.Ordinal), "boot log");

    [SkippableFact]
    public void Xcomp_permissions_and_every_request_0_to_63_match() => AssertGroup(o => o.Name.StartsWith("ARCH_", StringComparison.Ordinal), "arch_prctl");

    [SkippableFact]
    public void Task_struct_slab_cache_matches() => AssertGroup(o => o.Name.StartsWith("task_struct", StringComparison.Ordinal), "task_struct slab");

    [SkippableFact]
    public void At_minsigstksz_matches() => AssertGroup(o => o.Name == "AT_MINSIGSTKSZ", "AT_MINSIGSTKSZ");

    [SkippableFact]
    public void Xstate_regset_get_matches_the_model_of_the_loaded_child() =>
        AssertGroup(o => o.Name.StartsWith("NT_X86_XSTATE", StringComparison.Ordinal) || o.Name.StartsWith("NT_PRFPREG", StringComparison.Ordinal) || o.Name.StartsWith("ptrace", StringComparison.Ordinal), "ptrace GET");

    [SkippableFact]
    public void Setregset_rules_round_trips_and_200_seeded_images_match() =>
        AssertGroup(o => o.Name.StartsWith("SETREGSET", StringComparison.Ordinal) || o.Name.StartsWith("seeded", StringComparison.Ordinal), "ptrace SET");

    [SkippableFact]
    public void Core_dump_notes_match() => AssertGroup(o => o.Name.StartsWith("core", StringComparison.Ordinal), "core dump");

    [SkippableFact]
    public void A_real_signal_frame_matches_the_model_byte_for_byte() =>
        AssertGroup(o => o.Name.StartsWith("signal", StringComparison.Ordinal), "signal frame");

    [SkippableFact]
    public void Sigreturn_of_edited_real_frames_matches_the_model() =>
        AssertGroup(o => o.Name.StartsWith("sigreturn", StringComparison.Ordinal), "sigreturn");

    [SkippableFact]
    public void Gcore_core_decodes_to_the_loaded_registers() => AssertGroup(o => o.Name.StartsWith("gcore", StringComparison.Ordinal), "gcore");
}

[Collection(HostCheckCollection.Name)]
public sealed class HostCheckSkipTests
{
    [SkippableFact]
    public void Probes_that_cannot_start_a_child_are_skipped_with_the_reason_never_reported_as_matches()
    {
        Skip.IfNot(HostFacts.IsLinuxX64, "needs Linux on x86-64");
        var bogus = new XsaveLab.Host.Linux.ChildLauncher("/nonexistent/xsavelab-probe-child", []);
        var report = HostCheck.Run(new HostCheckOptions(bogus, SeededCases: 1,
            Providers: [new PtraceRegsetCheck(), new CoreDumpCheck(), new ArchPrctlCheck()]));
        var skipped = report.Observables.Where(o => o.Status == ObservableStatus.Skipped).ToList();
        Assert.NotEmpty(skipped);
        Assert.All(skipped, o => Assert.False(string.IsNullOrWhiteSpace(o.Reason)));
        Assert.DoesNotContain(report.Observables, o => o.Name.StartsWith("SETREGSET", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Observables, o => o.Name.StartsWith("core component", StringComparison.Ordinal));
        // The GET values need no child and are still compared.
        Assert.Contains(report.Observables, o => o.Name == "ARCH_GET_XCOMP_SUPP" && o.Status == ObservableStatus.Match);
        Assert.False(report.HasMismatch);
    }
}
