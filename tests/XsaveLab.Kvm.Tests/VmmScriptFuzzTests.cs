namespace XsaveLab.Kvm.Tests;

/// <summary>Seeded mutations of the built-in scripts and of lines made from the grammar: every input either fails to
/// parse with one <c>FILE:LINE: …</c> line, or runs to the end without an exception. FUZZ_ITERATIONS runs longer; a
/// failure prints the seed and the smallest input that still fails.</summary>
public class VmmScriptFuzzTests(ITestOutputHelper output)
{
    private const int DefaultIterations = 2000;
    private const int Seed = 0x5C417;

    /// <summary>Generous hang and blow-up bounds (not performance figures): a correct run takes milliseconds.</summary>
    private static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(60);
    private const long PerInputAllocationLimit = 1L << 30;

    private static readonly string[] Cpus = ["spr", "icx", "nehalem", "zen4-genoa", "adl"];

    /// <summary>Inputs that once crashed the parser or the runner.</summary>
    public static IEnumerable<object[]> Regressions() => new[]
    {
        "when amx:",
        "when amx:\nKVM_CREATE_VM",
        "when !amx:   ",
        "",
        "KVM_CREATE_VM\nKVM_CREATE_VCPU 0\nKVM_DESTROY_VCPU\nsave s",
        "KVM_CREATE_VM\nKVM_CREATE_VCPU 0\nKVM_SET_XSAVE byte@99999=1",
        "KVM_CREATE_VM\nKVM_CREATE_VCPU 0\nKVM_DESTROY_VCPU\nKVM_SET_XSAVE xstate_bv=1",
        "restore x flavour=bogus",
        "cpu nosuchcpu\nKVM_CREATE_VM",
        "KVM_CREATE_VM\nKVM_CREATE_VCPU 0\nKVM_RUN guest: xgetbv => #XX",
        "KVM_CREATE_VM\nexpect errno=12345",
        "KVM_RUN guest:",
        "when",
        "when :",
    }.Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Regressions))]
    public void Once_failing_inputs_parse_to_an_error_or_run(string text) =>
        Assert.Null(Check(text, 0));

    [Fact]
    public void Mutated_scripts_parse_to_an_error_or_run()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), out var n) && n > 0 ? n : DefaultIterations;
        int parsed = 0, rejected = 0;
        for (int i = 0; i < iterations; i++)
        {
            int seed = Seed + i;
            string input = Generate(new Random(seed));
            var failure = Check(input, i);
            if (failure is not null)
            {
                string minimal = Minimize(input, i);
                Assert.Fail($"seed {seed} (iteration {i}): {failure}\nminimal input ({minimal.Length} chars):\n{Escape(minimal)}\n--- reproduce: new Random({seed}) in {nameof(Generate)}");
            }
            if (VmmScriptParses(input)) parsed++; else rejected++;
        }
        output.WriteLine($"{iterations} inputs from seed 0x{Seed:X}: {parsed} parsed and ran, {rejected} rejected with FILE:LINE");
        Assert.True(parsed > iterations / 10 && rejected > iterations / 10, $"{parsed} parsed, {rejected} rejected: the mutations should exercise both paths");
    }

    private static bool VmmScriptParses(string text)
    {
        try
        {
            VmmScript.Parse(text, "fuzz.vmm");
            return true;
        }
        catch (VmmScriptException)
        {
            return false;
        }
    }

    /// <summary>Null when <paramref name="text"/> behaves: a one-line FILE:LINE error, or a run without exception
    /// within the bounds.</summary>
    private static string? Check(string text, int iteration)
    {
        VmmScript script;
        try
        {
            script = VmmScript.Parse(text, "fuzz.vmm");
        }
        catch (VmmScriptException e)
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(e.Message, @"^fuzz\.vmm:\d+: \S"))
                return $"error without FILE:LINE: {Escape(e.Message)}";
            if (e.Message.Any(char.IsControl))
                return $"error with a control character: {Escape(e.Message)}";
            if (e.Message.Length > 2000)
                return $"error of {e.Message.Length} characters";
            return null;
        }
        catch (Exception e)
        {
            return $"parser threw {e.GetType().Name}: {e.Message}";
        }
        var settings = KvmSettings.For(TestCpus.Get(Cpus[iteration % Cpus.Length]));
        Exception? thrown = null;
        long allocated = 0;
        var run = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                KvmReport.Create(script, settings, "fuzz.vmm").ToJsonString();
            }
            catch (Exception e)
            {
                thrown = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, maxStackSize: 16 << 20);
        run.Start();
        if (!run.Join(PerInputLimit))
            return $"run did not finish within {PerInputLimit.TotalSeconds} s";
        if (thrown is not null)
            return $"run threw {thrown.GetType().Name}: {thrown.Message}\n{thrown.StackTrace}";
        return allocated > PerInputAllocationLimit ? $"run allocated {allocated} bytes" : null;
    }

    /// <summary>Drops lines, then characters, while the input still fails.</summary>
    private static string Minimize(string input, int iteration)
    {
        var lines = input.Split('\n').ToList();
        for (int i = lines.Count - 1; i >= 0; i--)
        {
            var trial = lines.Where((_, k) => k != i).ToList();
            if (Check(string.Join('\n', trial), iteration) is not null)
                lines = trial;
        }
        string s = string.Join('\n', lines);
        for (int i = s.Length - 1; i >= 0 && s.Length < 2000; i--)
        {
            if (i >= s.Length) continue;
            string trial = s.Remove(i, 1);
            if (Check(trial, iteration) is not null)
                s = trial;
        }
        return s;
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s.Length > 4000 ? s[..4000] : s)
            sb.Append(c == '\n' ? "\n" : char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.ToString();
    }

    // ---- input generation ----

    private static readonly string[] Words =
    [
        "0", "1", "18", "-1", "0x0", "0xffffffffffffffff", "99999999999999999999", "0x", "all", "cpuid", "cpuid|0x60000",
        "vm", "ok", "#GP", "#XX", "=>", "=", "|=", ":", ";", "#", "when", "guest:", "expose=", "expose=amx,cet,-avx512",
        "expose=bogus", "xstate_bv|=0x800", "xcomp_bv=0x8000000000000003", "mxcsr=0xffffffff", "byte@0=1", "byte@4095=255",
        "byte@99999999=1", "byte@-1=1", "byte@2147483647=1", "IA32_XSS", "IA32_XFD=0x40000", "IA32_XSS=cpuid", "IA32_FOO",
        "omit=IA32_XSS", "omit=", "omit=ssp", "SSP=0x1000", "KVM_REG_GUEST_SSP", "n=0", "cpu=emr", "cpu=nehalem", "cpu=nosuch", "kernel=6.15", "kernel=v3", "kvm=6.17", "kvm=9",
        "flavour=pvm", "flavour=bogus", "errno=EBUSY", "errno=22", "value=0x1", "contains=XCR0", "contains=",
        "KVM_CAP_XSAVE2", "KVM_X86_XCOMP_GUEST_SUPP", "GET_XCOMP_SUPP", "REQ_XCOMP_GUEST_PERM", "REQ_XCOMP_PERM",
        "user_shstk", "ARCH_SHSTK_ENABLE", "ARCH_SHSTK_STATUS", "shstk", "wrss", "NT_X86_SHSTK", "NT_X86_SHSTK=0x1000",
        "token=0x1000", "token=", "noret", "restorer=0", "restorer=",
        "snap", "\t", "\u0000", "\u001b[31m", "é", "\r", new string('A', 5000),
    ];

    private static readonly string[] GuestInsns =
    [
        "cr4.osxsave", "xsetbv cpuid", "xsetbv 0x7", "xsetbv 1 all", "xgetbv", "xgetbv 1", "ldtilecfg", "tileloadd", "tilerelease",
        "write ymm", "write 18", "init ymm", "init 63", "wrmsr IA32_XFD 0x40000", "wrmsr IA32_XSS cpuid", "rdmsr IA32_XFD_ERR",
        "xsave buf all", "xsavec buf 0x40000", "xsaveopt buf 7", "xrstor buf all", "xsaves task cpuid", "xrstors task cpuid",
        "cpuid 0xd 0", "cpuid 0xd 18", "set_xstate_bv buf 0x3", "cpl 3", "cpl 0", "write nosuch", "bogus insn",
        "shstk_enable shstk", "shstk_enable buf", "call 0x401000", "ret 0x401000", "ret 0x402000", "call", "ret x",
    ];

    /// <summary>Arguments the grammar accepts, so that most generated lines run and reach the model.</summary>
    private static readonly Dictionary<string, string[]> ValidArgs = new()
    {
        ["KVM_CHECK_EXTENSION"] = ["KVM_CAP_XSAVE2", "KVM_CAP_XSAVE2 vm", "KVM_CAP_XCRS", "55"],
        ["arch_prctl"] = ["GET_XCOMP_SUPP", "GET_XCOMP_PERM", "GET_XCOMP_GUEST_PERM", "REQ_XCOMP_PERM 18", "REQ_XCOMP_GUEST_PERM 18", "REQ_XCOMP_GUEST_PERM 17",
            "ARCH_SHSTK_ENABLE shstk", "ARCH_SHSTK_ENABLE wrss", "ARCH_SHSTK_DISABLE shstk", "ARCH_SHSTK_DISABLE wrss", "ARCH_SHSTK_LOCK shstk",
            "ARCH_SHSTK_UNLOCK 3", "ARCH_SHSTK_STATUS"],
        ["KVM_GET_DEVICE_ATTR"] = ["KVM_X86_XCOMP_GUEST_SUPP", "1"],
        ["KVM_SET_CPUID2"] = ["", "expose=all", "expose=none", "expose=amx,cet", "expose=tilecfg", "expose=-avx512,-pkru"],
        ["KVM_SET_XSAVE"] = ["", "xstate_bv|=0x800", "xcomp_bv=0x8000000000000003", "byte@530=1", "mxcsr=0xffffffff", "byte@99999=1", "xstate_bv=0x60000"],
        ["KVM_SET_XCRS"] = ["1", "cpuid", "0x7", "0"],
        ["KVM_GET_MSRS"] = ["IA32_XSS", "IA32_XFD IA32_XFD_ERR", "IA32_U_CET IA32_PL0_SSP"],
        ["KVM_SET_MSRS"] = ["IA32_XSS=0", "IA32_XSS=cpuid", "IA32_XFD=0x40000", "IA32_U_CET=1 IA32_S_CET=1"],
        ["KVM_GET_ONE_REG"] = ["KVM_REG_GUEST_SSP", "SSP", "IA32_U_CET", "0x2030000300000000", "0x2030000300000001", "0x6030000300000000"],
        ["KVM_SET_ONE_REG"] = ["SSP=0x7fff0000", "SSP=0x7fff0001", "KVM_REG_GUEST_SSP=0xffff800000000000", "IA32_PL3_SSP=0x1000", "0x2031000300000000=1"],
        ["KVM_GET_REG_LIST"] = ["", "n=0", "n=1", "n=0xffffffffffffffff"],
        ["save"] = ["snap", "snap omit=IA32_XSS", "snap omit=ssp", "snap omit=IA32_XSS,SSP"],
        ["restore"] = ["snap", "snap cpu=emr", "snap cpu=icx kvm=6.17", "snap kernel=6.15", "snap flavour=pvm", "nosnap"],
        ["kernel"] = ["6.15", "6.17", "deferred", "v4", "6.17 user_shstk", "6.15 user_shstk"],
        ["kvm"] = ["6.17", "6.18"],
        ["flavour"] = ["upstream", "pvm"],
        ["task"] = ["0", "1", "2", "9"],
        ["switch"] = ["0", "1", "idle", "7"],
        ["signal"] = ["", "restorer=0", "restorer=0x401000"],
        ["sigreturn"] = ["", "xstate_bv|=0x60000", "xstate_bv=0", "byte@20=255", "byte@99999=1", "noret", "token=0x1000", "noret token=0x8000000000001000", "token=0x8000000000000004 xstate_bv=0"],
        ["sigaltstack"] = ["0", "4096", "1024", "0x100000"],
        ["use"] = ["2", "18", "17", "12", "63"],
        ["ptrace"] = ["GET", "SET", "SET xstate_bv|=0x800", "SET xstate_bv=0x40000", "SET byte@99999=1",
            "GET NT_X86_SHSTK", "SET NT_X86_SHSTK=0x1000", "SET NT_X86_SHSTK=0x1001", "SET NT_X86_SHSTK=0xffffffffffffffff"],
    };

    private static readonly string[] Outcomes = ["ok", "#GP", "#UD", "#NM", "#PF", "#CP", "0x40000", "0", "#XX", ""];

    internal static string Generate(Random rng)
    {
        var builtins = BuiltinScripts.All.Values.Select(v => v.Text).ToArray();
        var lines = (rng.Next(4) == 0 ? GrammarScript(rng) : builtins[rng.Next(builtins.Length)]).Split('\n').ToList();
        int mutations = rng.Next(0, 4);
        for (int m = 0; m < mutations; m++)
        {
            int at = lines.Count == 0 ? 0 : rng.Next(lines.Count);
            switch (rng.Next(12))
            {
                case 0 when lines.Count > 0: lines.RemoveAt(at); break;
                case 1 when lines.Count > 0: lines.Insert(at, lines[at]); break;
                case 2: lines.Insert(at, GrammarLine(rng)); break;
                case 3 when lines.Count > 1:
                    int b = rng.Next(lines.Count);
                    (lines[at], lines[b]) = (lines[b], lines[at]);
                    break;
                case 4 when lines.Count > 0: lines[at] = ReplaceWord(lines[at], rng); break;
                case 5 when lines.Count > 0 && lines[at].Length > 0: lines[at] = lines[at][..rng.Next(lines[at].Length)]; break;
                case 6 when lines.Count > 0: lines[at] = InsertChars(lines[at], rng); break;
                case 7 when lines.Count > 0: lines[at] = "when " + Pick(rng, ["amx", "!cet", "xfd", "guestxsave", "xsave", "!!amx", "nosuch", ""]) + ":" + (rng.Next(3) == 0 ? "" : " " + lines[at]); break;
                default: lines.Add(GrammarLine(rng)); break;
            }
        }
        return string.Join('\n', lines);
    }

    private static string GrammarScript(Random rng)
    {
        var sb = new StringBuilder();
        if (rng.Next(3) == 0) sb.Append("cpu ").Append(Pick(rng, [.. Cpus, "nosuch"])).Append('\n');
        if (rng.Next(3) == 0) sb.Append("kernel 6.17 user_shstk\n");
        int n = rng.Next(1, 14);
        for (int i = 0; i < n; i++)
            sb.Append(GrammarLine(rng)).Append('\n');
        return sb.ToString();
    }

    private static string GrammarLine(Random rng)
    {
        string verb = Pick(rng, [.. VmmScript.Verbs.Keys]);
        return verb switch
        {
            "KVM_RUN" => "KVM_RUN guest: " + string.Join("; ", Enumerable.Range(0, rng.Next(1, 5)).Select(_ =>
                Pick(rng, GuestInsns) + (rng.Next(3) == 0 ? " => " + Pick(rng, Outcomes) : ""))),
            "KVM_CREATE_VCPU" or "vcpu" => $"{verb} {Pick(rng, ["0", "1", "0", "x", "-1", "4294967296"])}",
            "expect" => "expect " + Pick(rng, ["ok", "errno=EBUSY", "errno=EINVAL", "errno=EBADF", "value=1", "contains=XCR0", "errno=nope"]),
            "cpu" => "cpu " + Pick(rng, [.. Cpus, "nosuch"]),
            _ when rng.Next(10) < 7 && ValidArgs.TryGetValue(verb, out var valid) => (verb + " " + Pick(rng, valid)).TrimEnd(),
            _ when rng.Next(10) < 7 && !ValidArgs.ContainsKey(verb) => verb,
            _ => verb + string.Concat(Enumerable.Range(0, rng.Next(0, 3)).Select(_ => " " + Pick(rng, Words))),
        };
    }

    private static string ReplaceWord(string line, Random rng)
    {
        var w = line.Split(' ');
        w[rng.Next(w.Length)] = Pick(rng, Words);
        return string.Join(' ', w);
    }

    private static string InsertChars(string line, Random rng)
    {
        int at = rng.Next(line.Length + 1);
        string ins = Pick(rng, ["#", " # ", ":", "=", "|", ";", "\u0000", "\r", "\u202e", "=> ", "@", "0x"]);
        return line[..at] + ins + line[at..];
    }

    private static T Pick<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];
}
