using XsaveLab.Kvm;
using XsaveLab.Kvm.Checks;
using XsaveLab.Kvm.Script;
using XsaveLab.Sim.Explore;

namespace XsaveLab.Sim.Tests.Explore;

/// <summary>The explorer finds the series' bugs without being told where to look, with shortest traces that replay
/// as VMM scripts, and finds nothing in the landed series.</summary>
public class StateExplorerTests(ITestOutputHelper output)
{
    private static ExploreResult Explore(KernelVariant v, int depth, int tasks = 2, int vcpus = 2) =>
        new StateExplorer(new ExploreOptions(KvmSettings.For(CpuCatalog.Get("spr"), v), depth, tasks, vcpus)).Run();

    private static KvmStep RunScript(string script, KernelVariant? fileVariant = null)
    {
        var parsed = VmmScript.Parse(script, "trace.txt");
        var settings = KvmSettings.For(CpuCatalog.Default, fileVariant);
        var runner = VmmRunner.Run(parsed, settings);
        return runner.Steps.Last(s => s.Ioctl == "check");
    }

    [Fact]
    public void Kernel_6_15_shows_the_state_perm_bug_and_the_guest_permission_bug_with_shortest_traces()
    {
        var r = Explore(KernelVariants.V6_15, 2);
        output.WriteLine($"6.15: states per depth {string.Join(", ", r.StatesPerDepth)}");
        foreach (var (id, option) in new[] { (SeriesInvariants.PermKeepsSupervisor.Id, "REQ_XCOMP_PERM 18"), (SeriesInvariants.GuestPermCoversGuestState.Id, "REQ_XCOMP_GUEST_PERM 18") })
        {
            var v = Assert.Single(r.Violations, x => x.Invariant == id);
            output.WriteLine($"{id}: {string.Join(" | ", v.Trace)}");
            // The booted system holds every invariant, so one action is the shortest possible trace; the only
            // action that rewrites a permission is the request.
            var action = Assert.Single(v.Trace);
            Assert.EndsWith(option, action, StringComparison.Ordinal);
            var check = RunScript(v.Script);
            Assert.False(check.Result.Ok);
            Assert.Contains(id, check.Text, StringComparison.Ordinal);
            Assert.True(check.Failed);
            // The same script on the fixed kernel passes its check.
            var fixedCheck = RunScript(v.Script.Replace("kernel 6.15", "kernel 6.17", StringComparison.Ordinal));
            Assert.True(fixedCheck.Result.Ok, fixedCheck.Text);
        }
    }

    [Fact]
    public void Kernel_6_17_and_6_16_visit_every_state_to_depth_3_without_a_violation()
    {
        foreach (var v in new[] { KernelVariants.V6_17, KernelVariants.V6_16 })
        {
            var r = Explore(v, 3);
            output.WriteLine($"{v.Name}: {r.States} states, per depth {string.Join(", ", r.StatesPerDepth)}");
            Assert.Empty(r.Violations);
            Assert.Equal(4, r.StatesPerDepth.Count);
            Assert.Equal(r.States, r.StatesPerDepth.Sum());
            Assert.All(r.StatesPerDepth, n => Assert.True(n > 0));
            Assert.True(r.Transitions >= r.States - 1);
        }
    }

    [Fact]
    public void Exploration_is_deterministic()
    {
        var a = Explore(KernelVariants.V6_15, 2, tasks: 2, vcpus: 1);
        var b = Explore(KernelVariants.V6_15, 2, tasks: 2, vcpus: 1);
        Assert.Equal(a.StatesPerDepth, b.StatesPerDepth);
        Assert.Equal(a.Violations.Select(v => v.Script), b.Violations.Select(v => v.Script));
    }

    /// <summary>A trace is shortest: no proper prefix of it already breaks the invariant.</summary>
    [Fact]
    public void No_prefix_of_a_reported_trace_breaks_its_invariant()
    {
        var file = KernelVariants.V6_17 with { Name = "6.17-guest-state-from-kernel-defaults", GuestState = GuestStateSource.KernelDefaults };
        var r = Explore(file, 2);
        Assert.NotEmpty(r.Violations);
        foreach (var v in r.Violations)
        {
            var lines = v.Script.Split('\n').ToList();
            int last = lines.FindLastIndex(l => l.StartsWith("# ", StringComparison.Ordinal) && char.IsDigit(l[2]));
            if (last < 0)
                continue;
            string prefix = string.Join('\n', lines.Take(last)) + "\ncheck\n";
            var check = RunScript(prefix, file);
            Assert.DoesNotContain(v.Invariant + ":", check.Text, StringComparison.Ordinal);
        }
    }

    /// <summary>A design written as a variant file that reverts one fix of the series is caught.</summary>
    [Theory]
    [InlineData("\"guestState\": \"kernelDefaults\"", "guest-fpstate-defaults")]
    [InlineData("\"guestPerm\": \"copyOfPerm\"", "guest-perm-covers-guest-state")]
    [InlineData("\"statePermPreservesNonUser\": false", "perm-keeps-supervisor")]
    [InlineData("\"hostDefaultsExcludeGuestSupervisor\": false", "task-no-guest-only")]
    public void A_variant_file_reverting_one_fix_is_caught(string change, string invariant) =>
        Caught("design.json", $$"""{ "name": "reverted", "parent": "6.17", {{change}} }""", change, invariant);

    /// <summary>The YAML twin: the same reverted fixes written as YAML are caught by the same invariants.</summary>
    [Theory]
    [InlineData("guestState: kernelDefaults", "guest-fpstate-defaults")]
    [InlineData("guestPerm: copyOfPerm", "guest-perm-covers-guest-state")]
    [InlineData("statePermPreservesNonUser: false", "perm-keeps-supervisor")]
    [InlineData("hostDefaultsExcludeGuestSupervisor: false", "task-no-guest-only")]
    public void A_yaml_variant_file_reverting_one_fix_is_caught(string change, string invariant) =>
        Caught("design.yaml", $"# one fix of the series reverted\nname: reverted\nparent: \"6.17\"\n{change}\n", change, invariant);

    private void Caught(string fileName, string text, string change, string invariant)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("xsavelab-variant-").FullName, fileName);
        try
        {
            File.WriteAllText(path, text);
            var v = KernelVariantFile.Read(path);
            var r = Explore(v, 2);
            var found = Assert.Single(r.Violations, x => x.Invariant == invariant);
            output.WriteLine($"{change}: {invariant} after {found.Trace.Count} action(s): {string.Join(" | ", found.Trace)}");
            var check = RunScript(found.Script, v);
            Assert.Contains(invariant, check.Text, StringComparison.Ordinal);
            Assert.Empty(Explore(KernelVariants.V6_17, 2).Violations);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
