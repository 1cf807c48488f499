namespace XsaveLab.Kvm.Tests;

/// <summary>Every script error is found by the parser, names FILE:LINE, and nothing runs; inputs that once crashed
/// the parser or the runner are kept here.</summary>
public class ScriptParseTests
{
    private static VmmScriptException ParseError(string text, int line, string mentions)
    {
        var e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse(text, "t.vmm"));
        Assert.Equal(line, e.Line);
        Assert.StartsWith($"t.vmm:{line}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Theory]
    [MemberData(nameof(BuiltinScriptTests.Builtins), MemberType = typeof(BuiltinScriptTests))]
    public void Every_builtin_goes_through_the_parser_into_typed_calls(string name)
    {
        var s = VmmScript.Parse(BuiltinScripts.All[name].Text, "builtin:" + name);
        Assert.Contains(s.Lines, l => l.Call is not (VmmCall.Expect or VmmCall.SetCpu or VmmCall.SetKernel));
        Assert.All(s.Lines, l => Assert.Equal(l.Verb == "KVM_RUN", l.Call is VmmCall.Run));
    }

    [Theory]
    [InlineData("KVM_CREATE_VM\nrestore x flavour=bogus", 2, "unknown flavour 'bogus'")]
    [InlineData("KVM_CREATE_VM\nrestore x cpu=nosuchcpu", 2, "unknown CPU 'nosuchcpu'")]
    [InlineData("KVM_CREATE_VM\nrestore x kvm=5.0", 2, "unknown KVM release '5.0'")]
    [InlineData("KVM_CREATE_VM\nrestore x kernel=9.9", 2, "unknown kernel variant '9.9'")]
    [InlineData("KVM_CREATE_VM\nrestore x color=red", 2, "bad argument 'color=red'")]
    [InlineData("cpu nosuchcpu\nKVM_CREATE_VM", 1, "unknown CPU 'nosuchcpu'")]
    [InlineData("flavour bogus\nKVM_CREATE_VM", 1, "unknown flavour 'bogus'")]
    [InlineData("kvm 7\nKVM_CREATE_VM", 1, "unknown KVM release '7'")]
    [InlineData("KVM_CREATE_VM\nKVM_CREATE_VCPU 0\nKVM_RUN guest: cr4.osxsave => #XX", 3, "unknown outcome '#XX'")]
    [InlineData("KVM_CREATE_VM\nexpect errno=EWHATEVER", 2, "unknown errno 'EWHATEVER'")]
    [InlineData("KVM_CREATE_VM\nexpect errno=22", 2, "unknown errno '22'")]
    [InlineData("KVM_FOO", 1, "unknown call 'KVM_FOO'")]
    [InlineData("KVM_CREATE_VCPU", 1, "usage: KVM_CREATE_VCPU ID")]
    [InlineData("KVM_GET_DEVICE_ATTR SOMETHING", 1, "usage: KVM_GET_DEVICE_ATTR")]
    [InlineData("arch_prctl GET_XCOMP_SUPP 5", 1, "takes no argument")]
    [InlineData("when amx:", 1, "needs the line to run after the colon")]
    [InlineData("when amx:   # nothing", 1, "needs the line to run after the colon")]
    [InlineData("when nosuch: KVM_CREATE_VM", 1, "unknown condition 'nosuch'")]
    [InlineData("", 1, "makes no call")]
    [InlineData("# a comment\n\n", 2, "makes no call")]
    [InlineData("cpu spr\nkernel 6.17", 2, "makes no call")]
    public void Errors_are_parse_errors_with_file_and_line(string text, int line, string mentions) =>
        ParseError(text, line, mentions);

    [Fact]
    public void Input_is_quoted_short_and_escaped_in_errors()
    {
        var e = ParseError("KVM_" + new string('X', 500) + "\u001b[31m", 1, "unknown call");
        Assert.True(e.Message.Length < 400 + VmmScript.Verbs.Keys.Sum(k => k.Length + 2), e.Message.Length.ToString());
        Assert.DoesNotContain('\u001b', e.Message);
        e = ParseError("cpu spr\u0007x\nKVM_CREATE_VM", 1, "\\u0007");
        Assert.DoesNotContain('\u0007', e.Message);
    }

    [Fact]
    public void Line_and_size_limits_are_parse_errors_that_name_the_limit()
    {
        ParseError("KVM_CREATE_VM\n" + new string(' ', ScriptText.MaxLineChars + 1) + "KVM_CREATE_VM", 2, $"at most {ScriptText.MaxLineChars}");
        ParseError(new string('\n', ScriptText.MaxFileBytes + 1), 0, "4 MiB");
        ParseError(string.Concat(Enumerable.Repeat("KVM_GET_SUPPORTED_CPUID\n", ScriptText.MaxCalls + 1)), ScriptText.MaxCalls + 1, $"at most {ScriptText.MaxCalls}");
    }

    [Fact]
    public void Script_files_must_be_bounded_regular_files()
    {
        var dir = Directory.CreateTempSubdirectory("xsavelab-vmm-");
        try
        {
            string big = Path.Combine(dir.FullName, "big.vmm");
            using (var f = File.Create(big))
                f.SetLength(ScriptText.MaxFileBytes + 1L);
            Assert.Contains("at most", Assert.Throws<VmmScriptException>(() => VmmScript.ParseFile(big)).Message, StringComparison.Ordinal);
            Assert.Contains("not a regular file", Assert.Throws<VmmScriptException>(() => VmmScript.ParseFile(dir.FullName)).Message, StringComparison.Ordinal);
            Assert.Contains("not a regular file", Assert.Throws<VmmScriptException>(() => VmmScript.ParseFile("/dev/zero")).Message, StringComparison.Ordinal);
            Assert.Equal(0, Assert.Throws<VmmScriptException>(() => VmmScript.ParseFile(Path.Combine(dir.FullName, "missing.vmm"))).Line);
            string ok = Path.Combine(dir.FullName, "ok.vmm");
            File.WriteAllText(ok, "KVM_CREATE_VM\n");
            Assert.Single(VmmScript.ParseFile(ok).Lines);
            if (OperatingSystem.IsLinux())
            {
                string fifo = Path.Combine(dir.FullName, "fifo.vmm");
                var mk = System.Diagnostics.Process.Start("mkfifo", fifo);
                mk.WaitForExit();
                Skip.If(mk.ExitCode != 0, "mkfifo failed");
                // Refused from the open descriptor's type: reading would block until a writer appears.
                Assert.Contains("a FIFO", Assert.Throws<VmmScriptException>(() => VmmScript.ParseFile(fifo)).Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>Runs that once threw: each now ends as a step with an errno.</summary>
public class ScriptRunRegressionTests
{
    private static KvmReport Run(string text) =>
        KvmReport.Create(VmmScript.Parse(text, "r.vmm"), KvmSettings.For(TestCpus.Get("spr")), "r.vmm");

    [Fact]
    public void Save_after_destroy_fails_with_ebadf()
    {
        var r = Run("KVM_CREATE_VM\nKVM_CREATE_VCPU 0\nKVM_DESTROY_VCPU\nsave s\nrestore s");
        var save = r.Steps.Single(s => s.Ioctl == "save");
        Assert.Equal(Errno.EBADF, save.Result.Errno);
        Assert.Equal(Errno.EINVAL, r.Steps.Single(s => s.Ioctl == "restore").Result.Errno);
    }

    [Theory]
    [InlineData("byte@100000=1")]
    [InlineData("byte@2147483647=1")]
    [InlineData("mxcsr=0")]
    public void A_change_past_the_image_fails_with_efault_or_lands_inside(string change)
    {
        var r = Run($"KVM_GET_SUPPORTED_CPUID\nKVM_CREATE_VM\nKVM_CREATE_VCPU 0\nKVM_SET_CPUID2\nKVM_GET_XSAVE2\nKVM_SET_XSAVE {change}");
        var set = r.Steps[^1];
        int size = (int)r.Steps.Single(s => s.Ioctl == "KVM_GET_XSAVE2").Output!.Value;
        var m = XsaveMutation.Parse(change)!;
        Assert.Equal(m.FitsIn(size) ? Errno.None : Errno.EFAULT, set.Result.Errno);
    }

    [Fact]
    public void KVM_SET_XSAVE_reports_the_kernel_rule_that_rejected_the_image()
    {
        var r = Run("KVM_GET_SUPPORTED_CPUID\nKVM_CREATE_VM\nKVM_CREATE_VCPU 0\nKVM_SET_CPUID2\nKVM_GET_XSAVE2\nKVM_SET_XSAVE xcomp_bv=0x8000000000000003");
        var set = r.Steps[^1];
        Assert.Equal(Errno.EINVAL, set.Result.Errno);
        Assert.Contains("XCOMP_BV", set.Result.Rule, StringComparison.Ordinal);
        Assert.StartsWith("validate_user_xstate_header():", set.Result.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_too_short_for_a_header_has_no_xstate_bv()
    {
        var snap = new VcpuSnapshot([], false, new byte[100], [], [], new Dictionary<string, byte[]>(), "x");
        Assert.Equal(0UL, snap.XstateBv);
    }

    /// <summary>A leaf 0xD sub-leaf claiming 256 MiB (really allocated before), or 0x7FFFFFFF bytes (an
    /// OverflowException in KVM_GET_XSAVE2 before): refused by the model's own bound before any allocation.</summary>
    [Theory]
    [InlineData(256u << 20)]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(KvmLimits.MaxComponentBytes + 1)]
    public void A_cpu_claiming_a_huge_component_is_refused_before_allocation(uint size)
    {
        var spr = TestCpus.Get("spr");
        var huge = new CpuProfile("huge", "test", spr.Leaves.Select(l =>
            l.Leaf == 0xD && l.Subleaf == 18 ? l with { Eax = size } : l));
        Assert.Contains("0xd.18", KvmLimits.Problem(huge), StringComparison.Ordinal);
        Assert.Null(KvmLimits.Problem(spr));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ArgumentException>(() => new KvmSystem(KvmSettings.For(huge)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
        var offset = new CpuProfile("far", "test", spr.Leaves.Select(l =>
            l.Leaf == 0xD && l.Subleaf == 2 ? l with { Ebx = 0xFFFFFFF0 } : l));
        Assert.Contains("offset", KvmLimits.Problem(offset), StringComparison.Ordinal);
    }
}
