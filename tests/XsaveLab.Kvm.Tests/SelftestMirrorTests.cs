namespace XsaveLab.Kvm.Tests;

/// <summary>xcr0_cpuid_test.c, xss_msr_test.c and the CET part of msrs_test.c (tools/testing/selftests/kvm/x86).</summary>
public class SelftestMirrorTests
{
    /// <summary>A vCPU as the selftest library sets it up: supported CPUID, CR4.OSXSAVE, XCR0 = supported.</summary>
    private static KvmVcpu SelftestVcpu(KvmSystem sys, IReadOnlyList<CpuidEntry>? cpuid = null)
    {
        sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
        var (_, v) = sys.CreateVm().CreateVcpu(0);
        Assert.True(v!.SetCpuid2(cpuid ?? sys.GetSupportedCpuid()).Ok);
        Assert.True(v.SetCr4OsXsave(true).Ok);
        Assert.True(v.SetXcrs([(0u, v.GuestSupportedXcr0 | 1)]).Ok);
        return v;
    }

    public static IEnumerable<object[]> XsaveCpus() => CpuCatalog.All.Where(c => c.HasXsave).Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(XsaveCpus))]
    public void Xcr0_cpuid_test_all_64_bits(string name)
    {
        var sys = TestCpus.System(TestCpus.Get(name));
        var v = SelftestVcpu(sys);
        ulong supported = v.GuestSupportedXcr0;
        var ops = new List<string> { "xgetbv => " + $"0x{supported:x}", "xsetbv 1 => ok", $"xsetbv 0x{supported:x} => ok" };
        for (int i = 0; i < 64; i++)
        {
            ulong bit = 1UL << i;
            if ((supported & bit) == 0)
                ops.Add($"xsetbv 0x{supported | bit:x} => #GP");
        }
        // The dependency rules, where the CPU has the features.
        if ((supported & XFeatureMasks.Ymm) != 0) ops.Add($"xsetbv 0x{XFeatureMasks.Fp | XFeatureMasks.Ymm:x} => #GP");
        if ((supported & XFeatureMasks.Mpx) == XFeatureMasks.Mpx) ops.Add($"xsetbv 0x{XFeatureMasks.FpSse | XFeatureMasks.BndRegs:x} => #GP");
        if ((supported & XFeatureMasks.Avx512) == XFeatureMasks.Avx512)
        {
            ops.Add($"xsetbv 0x{XFeatureMasks.FpSse | XFeatureMasks.Avx512:x} => #GP");
            ops.Add($"xsetbv 0x{XFeatureMasks.FpSse | XFeatureMasks.Ymm | XFeatureMasks.Opmask:x} => #GP");
        }
        if ((supported & XFeatureMasks.Xtile) == XFeatureMasks.Xtile)
        {
            ops.Add($"xsetbv 0x{supported & ~XFeatureMasks.XtileData:x} => #GP");
            ops.Add($"xsetbv 0x{supported & ~XFeatureMasks.XtileCfg:x} => #GP");
        }
        ops.Add("xsetbv 0 => #GP");
        var r = v.Run(TestCpus.Ops([.. ops]));
        Assert.True(r.ExpectationsMet, string.Join("\n", r.Guest.Where(g => g.ExpectationFailure is not null)));
        Assert.Equal(supported, v.Xcr0);
    }

    /// <summary>CPUs whose XSAVES the host kernel keeps (AMD family 17h loses it to erratum 1386, and KVM with it:
    /// <c>kvm_cpu_cap_init()</c> ANDs with boot_cpu_data).</summary>
    public static IEnumerable<object[]> XsavesCpus() => CpuCatalog.All
        .Where(c => c.HasXsaves && TestCpus.System(c).Host.System.Caps.Xsaves).Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(XsavesCpus))]
    public void Xss_msr_test(string name)
    {
        foreach (var release in new[] { KvmRelease.Kvm617, KvmRelease.Kvm618 })
        {
            var sys = TestCpus.System(TestCpus.Get(name), "6.17", release);
            var v = SelftestVcpu(sys);
            Assert.True(v.GuestXsaves, "KVM passes XSAVES through to guests of a CPU that has it (upstream flavour)");
            Assert.Equal(1L, v.GetMsrs([Msr.IA32_XSS], out var x).Value);
            Assert.Equal(0UL, x[0]);
            Assert.Equal(1L, v.SetMsrs([(Msr.IA32_XSS, 0UL)]).Value);
            bool listed = sys.GetMsrIndexList().Contains(Msr.IA32_XSS);
            for (int i = 0; i < 64; i++)
            {
                long n = v.SetMsrs([(Msr.IA32_XSS, 1UL << i)]).Value;
                Assert.True(n == 0 || listed, $"{release}: XSS bit {i} accepted but XSS is not in the save/restore list");
                Assert.Equal((v.GuestSupportedXss >> i & 1) != 0, n == 1);
            }
            if (release == KvmRelease.Kvm617)
                Assert.Equal(0UL, v.GuestSupportedXss);
        }
    }

    public static IEnumerable<object[]> CetCases() =>
        CpuCatalog.All.Where(c => c.HasXsaves && c.Has(CpuFeature.Shstk)).Select(c => new object[] { c.Name });

    private static IReadOnlyList<CpuidEntry> WithCet(IReadOnlyList<CpuidEntry> t, bool shstk, bool ibt) =>
        t.Select(e => e.Function == 7 && e.Index == 0
            ? e with { Ecx = shstk ? e.Ecx : e.Ecx & ~(1u << 7), Edx = ibt ? e.Edx : e.Edx & ~(1u << 20) }
            : e).ToArray();

    [SkippableTheory]
    [MemberData(nameof(CetCases))]
    public void Msrs_test_cet_rules(string name)
    {
        var sys = TestCpus.System(TestCpus.Get(name));
        Skip.IfNot(sys.Caps.Shstk, "KVM offers no CET on this CPU");
        var full = sys.GetSupportedCpuid();
        const ulong canon = 0xffff800000001000, nonCanon = 0x0000800000001000;
        foreach (var (shstk, ibt) in new[] { (true, true), (true, false), (false, true), (false, false) })
        {
            if (ibt && !sys.Caps.Ibt)
                continue;
            var v = SelftestVcpu(TestCpus.System(TestCpus.Get(name)), WithCet(full, shstk, ibt));
            var ops = new List<string>();
            // U_CET/S_CET exist with either feature; each bit needs its own feature.
            foreach (var m in new[] { "IA32_U_CET", "IA32_S_CET" })
            {
                if (shstk || ibt)
                {
                    ops.Add($"rdmsr {m} => 0");
                    ops.Add($"wrmsr {m} 0x40 => #GP"); // reserved bits 9:6
                    ops.Add($"wrmsr {m} 1 => {(shstk ? "ok" : "#GP")}"); // SHSTK_EN
                    ops.Add($"wrmsr {m} 4 => {(ibt ? "ok" : "#GP")}"); // ENDBR_EN
                    ops.Add($"wrmsr {m} 0 => ok");
                }
                else
                {
                    ops.Add($"rdmsr {m} => #GP");
                    ops.Add($"wrmsr {m} 0 => #GP");
                }
            }
            foreach (var m in new[] { "IA32_PL0_SSP", "IA32_PL1_SSP", "IA32_PL2_SSP", "IA32_PL3_SSP", "IA32_INT_SSP_TAB" })
            {
                if (shstk)
                {
                    ops.Add($"rdmsr {m} => 0");
                    ops.Add($"wrmsr {m} 0x{canon:x} => ok");
                    ops.Add($"rdmsr {m} => 0x{canon:x}");
                    ops.Add($"wrmsr {m} 0x{nonCanon:x} => #GP");
                    ops.Add($"wrmsr {m} 0x{canon | 1:x} => {(m == "IA32_INT_SSP_TAB" ? "ok" : "#GP")}");
                }
                else
                {
                    ops.Add($"rdmsr {m} => #GP");
                    ops.Add($"wrmsr {m} 0 => #GP");
                }
            }
            var r = v.Run(TestCpus.Ops([.. ops]));
            Assert.True(r.ExpectationsMet, $"{name} shstk={shstk} ibt={ibt}\n" + string.Join("\n", r.Guest.Where(g => g.ExpectationFailure is not null)));
            if (shstk)
            {
                // The host reads what the guest wrote; the XSAVE-managed ones come from the guest fpstate.
                var idx = new[] { Msr.IA32_PL0_SSP, Msr.IA32_PL3_SSP, Msr.IA32_INT_SSP_TAB };
                Assert.Equal(3L, v.GetMsrs(idx, out var vals).Value);
                Assert.Equal(canon, vals[0]);
                Assert.Equal(canon | 1, vals[2]);
                Assert.Equal(3L, v.SetMsrs(idx.Select(i => (i, 0UL)).ToArray()).Value);
                Assert.Equal(3L, v.GetMsrs(idx, out vals).Value);
                Assert.All(vals, x => Assert.Equal(0UL, x));
            }
            else
            {
                // Host-initiated: an advertised MSR the vCPU lacks reads 0 and takes 0, nothing else.
                Assert.Equal(1L, v.GetMsrs([Msr.IA32_PL0_SSP], out _).Value);
                Assert.Equal(1L, v.SetMsrs([(Msr.IA32_PL0_SSP, 0UL)]).Value);
                Assert.Equal(0L, v.SetMsrs([(Msr.IA32_PL0_SSP, canon)]).Value);
            }
        }
    }

    [Fact]
    public void Script_errors_name_file_and_line()
    {
        var e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_CREATE_VM\n\nKVM_FOO\n", "a.vmm"));
        Assert.Equal(("a.vmm", 3), (e.File, e.Line));
        Assert.StartsWith("a.vmm:3:", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_RUN guest: xsetbv; tileloadd", "b.vmm"));
        Assert.Equal(1, e.Line);
        e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("# c\nexpect ok", "c.vmm"));
        Assert.Equal(2, e.Line);
        e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_CREATE_VM\ncpu spr", "d.vmm"));
        Assert.Equal(2, e.Line);
        e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_SET_MSRS IA32_FOO=1", "e.vmm"));
        Assert.Contains("IA32_FOO", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, Assert.Throws<VmmScriptException>(() => VmmScript.ParseFile("/nonexistent/x.vmm")).Line);
        // '#' followed by a blank starts a comment; '#GP' is an expectation.
        var s = VmmScript.Parse("KVM_RUN guest: xsetbv 0 => #GP # comment", "f.vmm");
        Assert.Equal("#GP", s.Lines[0].Guest[0].Expect);
    }

    [Fact]
    public void A_failed_expectation_marks_the_step_and_the_report()
    {
        var cpu = TestCpus.Amx()!;
        var report = Report.KvmReport.Create(VmmScript.Parse("KVM_CREATE_VM\nKVM_CREATE_VCPU 0\narch_prctl REQ_XCOMP_GUEST_PERM 18\nexpect ok\n", "g.vmm"), KvmSettings.For(cpu), "g.vmm");
        Assert.False(report.Ok);
        Assert.Equal("-EBUSY", report.Steps[^1].ResultText);
        Assert.False(report.Steps[^1].ExpectMet);
    }

    [Theory]
    [MemberData(nameof(XsavesCpus))]
    public void The_guests_cpuid_follows_xcr0_and_xss_at_run_time(string name)
    {
        var cpu = TestCpus.Get(name);
        var sys = TestCpus.System(cpu);
        sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
        var (_, v) = sys.CreateVm().CreateVcpu(0);
        Assert.True(v!.SetCpuid2(sys.GetSupportedCpuid()).Ok);
        ulong x = v.GuestSupportedXcr0;
        var ops = new List<string> { "cpuid 1", "cr4.osxsave", "cpuid 1", "xsetbv 3", "cpuid 0xd 0 => 576", $"xsetbv 0x{x:x}",
            $"cpuid 0xd 0 => {Arch.Layout.XStateGeometry.Size(cpu, x, false)}" };
        if (v.GuestSupportedXss != 0)
            ops.AddRange(["wrmsr IA32_XSS cpuid => ok", $"cpuid 0xd 1 => {Arch.Layout.XStateGeometry.Size(cpu, x | v.GuestSupportedXss, true)}"]);
        else
            ops.Add($"cpuid 0xd 1 => {Arch.Layout.XStateGeometry.Size(cpu, x, true)}");
        var r = v.Run(TestCpus.Ops([.. ops]));
        Assert.True(r.ExpectationsMet, string.Join("\n", r.Guest));
        Assert.Equal(0u, v.Cpuid.First(e => e.Function == 1).Ecx & (1u << 27));
        Assert.NotEqual(0u, v.GuestCpuid(1, 0).Ecx & (1u << 27));
    }
}
