using XsaveLab.Host.Check;
using XsaveLab.Host.Tests.Linux;
using Xunit.Abstractions;

namespace XsaveLab.Host.Tests.Check;

/// <summary>The <c>host check</c> observables as tests: every group must match this machine, or skip with the
/// reason the machine gives.</summary>
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
    public void At_minsigstksz_matches() => AssertGroup(o => o.Name == "AT_MINSIGSTKSZ", "AT_MINSIGSTKSZ");

    [SkippableFact]
    public void Xstate_regset_get_matches_the_model_of_the_loaded_child() =>
        AssertGroup(o => o.Name.StartsWith("NT_X86_XSTATE", StringComparison.Ordinal) || o.Name.StartsWith("NT_PRFPREG", StringComparison.Ordinal) || o.Name.StartsWith("ptrace", StringComparison.Ordinal), "ptrace GET");

    [SkippableFact]
    public void Setregset_rules_round_trips_and_200_seeded_images_match() =>
        AssertGroup(o => o.Name.StartsWith("SETREGSET", StringComparison.Ordinal) || o.Name.StartsWith("seeded", StringComparison.Ordinal), "ptrace SET");

    [SkippableFact]
    public void Core_dump_notes_match() => AssertGroup(o => o.Name.StartsWith("core", StringComparison.Ordinal), "core dump");
}
