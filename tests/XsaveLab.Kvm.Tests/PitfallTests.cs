namespace XsaveLab.Kvm.Tests;

/// <summary>Each known VMM pitfall with the outcome the kernel gives (docs/vmm-pitfalls.md).</summary>
public class PitfallTests
{
    private static KvmReport Run(string name, string? cpu = null) =>
        KvmReport.Create(BuiltinScripts.Get(name), KvmSettings.For(cpu is null ? TestCpus.Amx()! : TestCpus.Get(cpu)), name);

    private static KvmStep Step(KvmReport r, string ioctl, int nth = 0) => r.Steps.Where(s => s.Ioctl == ioctl).ElementAt(nth);

    [Fact]
    public void Permission_after_supported_cpuid_leaves_amx_out_of_the_guest()
    {
        var r = Run("pitfall-perm-after-cpuid");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        Assert.True(Step(r, "arch_prctl").Result.Ok);
        var d0 = r.SupportedCpuid.Single(e => e.Index == 0);
        Assert.Equal(0u, d0.Eax & (uint)XFeatureMasks.Xtile);
        Assert.Equal(4096L, Step(r, "KVM_GET_XSAVE2").Output);
        Assert.Equal(Arch.Machine.FaultKind.GeneralProtection, Step(r, "KVM_RUN").Guest[1].Fault.Kind);
    }

    [Fact]
    public void Guest_permission_after_the_first_vcpu_is_ebusy()
    {
        var r = Run("pitfall-perm-after-vcpu");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        Assert.Equal(Errno.EBUSY, Step(r, "arch_prctl").Result.Errno);
        Assert.Equal(0L, Step(r, "arch_prctl", 1).Output!.Value & (long)XFeatureMasks.XtileData);
    }

    [Fact]
    public void Tilecfg_without_tiledata_makes_the_guests_xsetbv_gp()
    {
        var r = Run("pitfall-tilecfg-only");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        var set = Step(r, "KVM_SET_CPUID2");
        Assert.True(set.Result.Ok);
        // KVM's note names the architecture's rule (one definition, Xcr0Rules).
        Assert.Contains(Arch.Sanity.Xcr0Rules.All.Single(x => x.Code == "XCR0_AMX_PAIR").Message, set.Text, StringComparison.Ordinal);
        var run = Step(r, "KVM_RUN");
        Assert.Equal(Arch.Machine.FaultKind.GeneralProtection, run.Guest[1].Fault.Kind);
        Assert.Contains("TILECFG", run.Guest[1].Fault.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void A_4096_byte_get_xsave_on_an_amx_guest_is_einval()
    {
        var r = Run("pitfall-get-xsave");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        Assert.True(Step(r, "KVM_GET_XSAVE").Result.Ok);
        Assert.Equal(Errno.EINVAL, Step(r, "KVM_GET_XSAVE", 1).Result.Errno);
        Assert.True(Step(r, "KVM_GET_XSAVE2").Output > 4096);
    }

    [Fact]
    public void A_snapshot_without_ia32_xss_breaks_a_cet_guests_xrstors()
    {
        var r = Run("pitfall-snapshot-without-xss");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        var runs = r.Steps.Where(s => s.Ioctl == "KVM_RUN").ToArray();
        Assert.All(runs[0].Guest, g => Assert.False(g.Fault.IsFault, g.ToString()));
        var last = runs[^1];
        Assert.Equal(0UL, last.Guest[0].Value);
        Assert.Equal(Arch.Machine.FaultKind.GeneralProtection, last.Guest[1].Fault.Kind);
        Assert.DoesNotContain("IA32_XSS", Step(r, "save").Text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_snapshot_with_ia32_xss_restores_cleanly()
    {
        var text = BuiltinScripts.SnapshotWithoutXss.Replace("save snap omit=IA32_XSS", "save snap", StringComparison.Ordinal)
            .Replace("rdmsr IA32_XSS => 0; xrstors task cpuid => #GP", "rdmsr IA32_XSS => 0x1800; xrstors task cpuid => ok", StringComparison.Ordinal);
        var r = KvmReport.Create(VmmScript.Parse(text, "with-xss"), KvmSettings.For(TestCpus.Amx()!), "with-xss");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
    }

    [Fact]
    public void Migration_to_a_same_featured_cpu_keeps_the_image_and_to_a_cpu_without_amx_fails()
    {
        var r = Run("migrate");
        var gets = r.Steps.Where(s => s.Ioctl == "KVM_GET_XSAVE2").ToArray();
        Assert.Equal(gets[0].Text, gets[1].Text);
        var restores = r.Steps.Where(s => s.Ioctl == "restore").ToArray();
        Assert.True(restores[0].Result.Ok, BuiltinScriptTests.Dump(r));
        Assert.False(restores[1].Result.Ok);
        var failedCpuid = r.Steps.Last(s => s.Ioctl == "KVM_SET_CPUID2");
        Assert.Equal(Errno.EPERM, failedCpuid.Result.Errno);
        Assert.Equal(Errno.EOPNOTSUPP, r.Steps.Last(s => s.Ioctl == "arch_prctl").Result.Errno);
    }
}

public class ScriptExampleTests
{
    [Fact]
    public void The_documented_example_sequence_runs_as_written()
    {
        const string text = """
            arch_prctl REQ_XCOMP_GUEST_PERM 18
            KVM_GET_SUPPORTED_CPUID
            KVM_CREATE_VM
            KVM_CREATE_VCPU 0
            KVM_SET_CPUID2 expose=amx,cet
            expect ok
            KVM_RUN guest: cr4.osxsave; xsetbv 0x602e7 => ok; wrmsr IA32_XFD 0x40000 => ok; ldtilecfg; tileloadd => #NM; rdmsr IA32_XFD_ERR => 0x40000
            KVM_GET_XSAVE2
            expect ok
            arch_prctl REQ_XCOMP_GUEST_PERM 18
            expect ok
            """;
        var r = KvmReport.Create(VmmScript.Parse(text, "example.vmm"), KvmSettings.For(TestCpus.Get("spr")), "example.vmm");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        // Already permitted: 0 even though the first vCPU locked guest permissions.
        Assert.Equal(0L, r.Steps[^1].Result.Value);
        var d0 = r.SupportedCpuid.Single(e => e.Index == 0);
        Assert.Equal(0x602e7u, d0.Eax & 0x602e7u);
    }
}
