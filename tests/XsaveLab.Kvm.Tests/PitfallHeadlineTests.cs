namespace XsaveLab.Kvm.Tests;

/// <summary>Every built-in pitfall (the <c>pitfall-</c> sequences of <see cref="BuiltinScripts.All"/>) starts with a
/// headline and its run ends with an outcome drawn from the run; every built-in prints as a template that parses back
/// to the same script.</summary>
public class PitfallHeadlineTests
{
    public static TheoryData<string> Pitfalls() => [.. BuiltinScripts.All.Keys.Where(k => k.StartsWith("pitfall-", StringComparison.Ordinal))];

    public static TheoryData<string> Builtins() => [.. BuiltinScripts.All.Keys];

    [Fact]
    public void There_are_pitfalls_and_only_they_have_a_headline()
    {
        Assert.NotEmpty(Pitfalls());
        foreach (var name in BuiltinScripts.All.Keys)
            Assert.Equal(name.StartsWith("pitfall-", StringComparison.Ordinal), BuiltinScripts.Headline(name) is not null);
    }

    [Theory]
    [MemberData(nameof(Pitfalls))]
    public void A_pitfall_says_what_goes_wrong_on_which_kernels_and_how_it_shows(string name)
    {
        var h = BuiltinScripts.Headline(name);
        Assert.NotNull(h);
        Assert.All(new[] { h.What, h.Kernels, h.Shows }, p => Assert.True(p.Length >= 20, $"{name}: '{p}' says too little"));
        // The kernels are named by release or by the rule that applies to all of them.
        Assert.Matches(@"\d\.\d+|every kernel", h.Kernels);
    }

    [Theory]
    [MemberData(nameof(Pitfalls))]
    public void A_pitfall_run_ends_with_its_outcome_on_this_cpu_and_kernel(string name)
    {
        var cpu = TestCpus.Amx()!;
        var r = KvmRequest.Run(name, KvmSettings.For(cpu), []);
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        Assert.Equal(BuiltinScripts.Headline(name), r.Pitfall);
        Assert.NotNull(r.Outcome);
        Assert.StartsWith($"Outcome on {cpu.Name}, kernel {KernelVariants.DefaultName}, KVM {r.Kvm}", r.Outcome);
        // The outcome names every failed call and faulting guest instruction of the run, by line.
        var symptoms = r.Steps.Where(s => !s.Result.Ok || s.Guest.Any(g => g.Fault.IsFault)).ToArray();
        Assert.NotEmpty(symptoms);
        Assert.Contains("the pitfall shows", r.Outcome);
        Assert.All(symptoms, s => Assert.Contains($"line {s.Line} ", r.Outcome));
    }

    [Fact]
    public void A_run_that_misses_an_expectation_says_so_in_the_outcome()
    {
        var script = VmmScript.Parse("KVM_CREATE_VM\nKVM_CREATE_VCPU 0\narch_prctl REQ_XCOMP_GUEST_PERM 18\nexpect ok", "t");
        var r = KvmReport.Create(script, KvmSettings.For(TestCpus.Amx()!), "t");
        Assert.False(r.Ok);
        Assert.Contains("line 3 arch_prctl returned -EBUSY, expected ok", KvmReport.PitfallOutcome(r));
    }

    [Theory]
    [MemberData(nameof(Builtins))]
    public void The_template_parses_back_to_the_same_script(string name)
    {
        var original = BuiltinScripts.Get(name);
        var back = VmmScript.Parse(BuiltinScripts.Template(name), "template.txt");
        Assert.Equal(original.Lines.Count, back.Lines.Count);
        foreach (var (a, b) in original.Lines.Zip(back.Lines))
        {
            Assert.Equal((a.Number, a.Text, a.Verb, a.Condition), (b.Number, b.Text, b.Verb, b.Condition));
            Assert.Equal(a.Args, b.Args);
            Assert.Equal(a.Call.ToString(), b.Call.ToString());
        }
    }
}
