using XsaveLab.Kvm.Report;
using XsaveLab.Kvm.Script;

namespace XsaveLab.Kvm.Tests;

public class BuiltinScriptTests
{
    public static IEnumerable<object[]> Builtins() => BuiltinScripts.All.Keys.Select(k => new object[] { k });

    internal static string Dump(KvmReport r) => string.Join("\n", r.Steps.Select(s =>
        $"{s.Line} {s.Ioctl} {s.Args} -> {s.ResultText} {s.Text}" + (s.Expect is null ? "" : $" [expect {s.Expect}: {s.ExpectMet}]")
        + string.Concat(s.Guest.Select(g => "\n     " + g))));

    [Theory]
    [MemberData(nameof(Builtins))]
    public void Builtin_runs_with_every_expectation_met_on_an_amx_cet_cpu(string name)
    {
        var cpu = TestCpus.Amx()!;
        var report = KvmReport.Create(BuiltinScripts.Get(name), KvmSettings.For(cpu), name);
        Assert.True(report.Ok, Dump(report));
    }
}
