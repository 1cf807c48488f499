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

public class BuiltinScriptsOverCatalogTests
{
    public static IEnumerable<object[]> Cases() =>
        from cpu in Arch.Catalog.CpuCatalog.Names
        from v in new[] { "6.15", "6.17", "deferred" }
        select new object[] { cpu, v };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_applicable_builtin_meets_its_expectations(string cpu, string variant)
    {
        var settings = KvmSettings.For(TestCpus.Get(cpu), Kernel.Variants.KernelVariants.Get(variant));
        int ran = 0;
        foreach (var name in BuiltinScripts.All.Keys)
        {
            if (BuiltinScripts.Unmet(name, new Vm.KvmSystem(settings)) is not null)
                continue;
            var r = KvmReport.Create(BuiltinScripts.Get(name), settings, name);
            ran++;
            if (name == "migrate" && MovesOnEmr(settings))
            {
                // The first restore (onto emr) takes bytes laid out for this CPU: flagged, so the run fails.
                Assert.False(r.Ok, BuiltinScriptTests.Dump(r));
                Assert.Contains(r.Steps, s => s.Corruption is not null);
                continue;
            }
            Assert.True(r.Ok, $"{name} on {cpu} ({variant}):\n" + BuiltinScriptTests.Dump(r));
            Assert.DoesNotContain(r.Notes, n => n.StartsWith("kernel WARN", StringComparison.Ordinal));
        }
        Assert.True(ran >= 3);
    }

    /// <summary>Whether the guest state of <paramref name="settings"/>' CPU, all accepted by emr, has a component whose
    /// CPUID 0xD.i (size, standard offset, alignment bit) differs on emr: read from the two profiles' leaves.</summary>
    private static bool MovesOnEmr(KvmSettings settings)
    {
        var emr = TestCpus.Get("emr");
        ulong guest = new Vm.KvmSystem(settings).Caps.SupportedXcr0;
        if ((guest & ~emr.SupportedXcr0) != 0)
            return false;
        for (uint i = 2; i < 63; i++)
        {
            if ((guest >> (int)i & 1) == 0)
                continue;
            var a = settings.Cpu.Leaf(0xD, i);
            var b = emr.Leaf(0xD, i);
            if (a.Eax != b.Eax || a.Ebx != b.Ebx || (a.Ecx & 2) != (b.Ecx & 2))
                return true;
        }
        return false;
    }
}
