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

    /// <summary>The guest SSP was not modelled before: the snapshot lost nothing, so the task's RET after the restore
    /// returned normally. Follows <c>kvm_get_reg_list()</c>/<c>kvm_translate_kvm_reg()</c> (6.18) and the RET
    /// pseudo-code's shadow-stack pop (SDM Vol. 2).</summary>
    [Fact]
    public void A_snapshot_without_the_guest_ssp_breaks_the_tasks_shadow_stack_after_restore()
    {
        var r = Run("pitfall-snapshot-without-ssp");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        var runs = r.Steps.Where(s => s.Ioctl == "KVM_RUN").ToArray();
        Assert.All(runs[0].Guest, g => Assert.False(g.Fault.IsFault, g.ToString()));
        // The VMM could have known: KVM_GET_REG_LIST named the register before the save.
        Assert.Equal(1L, Step(r, "KVM_GET_REG_LIST").Output);
        Assert.DoesNotContain(r.Steps, s => s.Ioctl == "KVM_SET_ONE_REG");
        // The source's SSP (what the task's next RET pops from) is the value after its last call/ret.
        ulong sourceSsp = runs[0].Guest[^1].Value!.Value;
        Assert.NotEqual(0UL, sourceSsp);
        Assert.Equal(0L, Step(r, "KVM_GET_ONE_REG").Output);
        var ret = runs[^1].Guest.Single();
        Assert.Equal(Arch.Machine.FaultKind.PageFault, ret.Fault.Kind);
        Assert.Contains("SIGSEGV", ret.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_snapshot_with_the_guest_ssp_returns_through_the_shadow_stack()
    {
        var text = BuiltinScripts.SnapshotWithoutSsp.Replace("save snap omit=ssp", "save snap", StringComparison.Ordinal)
            .Replace("ret 0x401000 => #PF", "ret 0x401000 => ok", StringComparison.Ordinal);
        var r = KvmReport.Create(VmmScript.Parse(text, "with-ssp"), KvmSettings.For(TestCpus.Amx()!), "with-ssp");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
        Assert.True(Step(r, "KVM_SET_ONE_REG").Result.Ok);
    }

    [Fact]
    public void Without_the_ssp_a_snapshot_taken_in_the_guest_kernel_still_works_because_pl3_ssp_holds_it()
    {
        // Leaving CPL 3 saves the user SSP in IA32_PL3_SSP, which is in CET_U: KVM_GET_XSAVE2 carries it then.
        var text = BuiltinScripts.SnapshotWithoutSsp.Replace("ret 0x402000 => ok", "ret 0x402000 => ok; cpl 0", StringComparison.Ordinal)
            .Replace("ret 0x401000 => #PF", "cpl 3; ret 0x401000 => ok", StringComparison.Ordinal);
        var r = KvmReport.Create(VmmScript.Parse(text, "in-kernel"), KvmSettings.For(TestCpus.Amx()!), "in-kernel");
        Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
    }

    [Fact]
    public void A_wrong_ssp_on_a_shadow_stack_page_is_a_control_protection_fault()
    {
        var r = Run("pitfall-snapshot-without-ssp");
        ulong source = r.Steps.First(s => s.Ioctl == "KVM_RUN").Guest[^1].Value!.Value;
        // One slot lower holds the return address the task already returned through.
        var text = BuiltinScripts.SnapshotWithoutSsp.Replace("KVM_GET_ONE_REG KVM_REG_GUEST_SSP", $"KVM_SET_ONE_REG SSP=0x{source - 8:x}", StringComparison.Ordinal)
            .Replace("ret 0x401000 => #PF", "ret 0x401000 => #CP", StringComparison.Ordinal);
        var w = KvmReport.Create(VmmScript.Parse(text, "wrong-ssp"), KvmSettings.For(TestCpus.Amx()!), "wrong-ssp");
        Assert.True(w.Ok, BuiltinScriptTests.Dump(w));
        Assert.Contains("0x402000", w.Steps.Last(s => s.Ioctl == "KVM_RUN").Guest.Single().Text, StringComparison.Ordinal);
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
