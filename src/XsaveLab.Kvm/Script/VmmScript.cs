namespace XsaveLab.Kvm.Script;

/// <summary>A script error: names the file and line. Nothing runs when parsing fails. The message is one line with
/// control characters escaped, whatever the script held.</summary>
public sealed class VmmScriptException(string file, int line, string problem)
    : Exception($"{ScriptText.Excerpt(file, 200)}:{line}: {ScriptText.Excerpt(problem, 1000)}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Problem { get; } = problem;
}

/// <summary>One parsed line: an optional condition (<c>when amx:</c>), the verb, the words after it (as written, for
/// the report) and the typed <see cref="Call"/> the runner executes.</summary>
public sealed record ScriptLine(string File, int Number, string Text, ScriptCondition? Condition, string Verb,
    IReadOnlyList<string> Args, VmmCall Call)
{
    /// <summary>The guest instructions of a KVM_RUN line (none for other lines).</summary>
    public IReadOnlyList<GuestOp> Guest => Call is VmmCall.Run r ? r.Guest : [];
}

/// <summary>VMM sequences as text: one ioctl per line, <c>#</c> comments, <c>expect …</c> lines checking the line
/// before. See <see cref="Verbs"/> for what each line may say. Parsed once into typed calls: every unknown name,
/// bad number or missing value is a <see cref="VmmScriptException"/> before anything runs.</summary>
public sealed class VmmScript
{
    public static readonly IReadOnlyDictionary<string, string> Verbs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["cpu"] = "cpu NAME|FILE [hide=FEATURE,…] — the CPU of the VMM process, a built-in CPU or a CPUID dump, optionally with CPUID features hidden as --hide does (before any call; the KVM flavour becomes upstream unless the script names one)",
        ["kernel"] = "kernel VARIANT [user_shstk] — host kernel variant, user_shstk: built with CONFIG_X86_USER_SHADOW_STACK (before any call)",
        ["kvm"] = "kvm 6.17|6.18|6.19 — KVM release (before any call)",
        ["flavour"] = "flavour upstream|pvm — KVM flavour (before any call)",
        ["arch_prctl"] = "arch_prctl GET_XCOMP_SUPP|GET_XCOMP_PERM|GET_XCOMP_GUEST_PERM|REQ_XCOMP_PERM N|REQ_XCOMP_GUEST_PERM N|ARCH_SHSTK_ENABLE F|ARCH_SHSTK_DISABLE F|ARCH_SHSTK_LOCK F|ARCH_SHSTK_UNLOCK F|ARCH_SHSTK_STATUS (F: shstk, wrss or a mask)",
        ["KVM_CHECK_EXTENSION"] = "KVM_CHECK_EXTENSION KVM_CAP_XSAVE|KVM_CAP_XCRS|KVM_CAP_XSAVE2|N [vm]",
        ["KVM_GET_SUPPORTED_CPUID"] = "KVM_GET_SUPPORTED_CPUID",
        ["KVM_GET_DEVICE_ATTR"] = "KVM_GET_DEVICE_ATTR KVM_X86_XCOMP_GUEST_SUPP|N",
        ["KVM_GET_MSR_INDEX_LIST"] = "KVM_GET_MSR_INDEX_LIST",
        ["KVM_CREATE_VM"] = "KVM_CREATE_VM",
        ["KVM_CREATE_VCPU"] = "KVM_CREATE_VCPU ID",
        ["vcpu"] = "vcpu ID — the vCPU later lines address",
        ["KVM_SET_CPUID2"] = "KVM_SET_CPUID2 [expose=all|none|amx,tilecfg,tiledata,cet,-avx,-avx512,-mpx,-pkru,-apx] (from the last KVM_GET_SUPPORTED_CPUID; AMX and CET only when named, '-' hides)",
        ["KVM_GET_CPUID2"] = "KVM_GET_CPUID2",
        ["KVM_RUN"] = "KVM_RUN guest: INSN; INSN … (INSN => ok|#GP|#UD|#NM|VALUE checks it)",
        ["KVM_GET_XSAVE"] = "KVM_GET_XSAVE",
        ["KVM_GET_XSAVE2"] = "KVM_GET_XSAVE2",
        ["KVM_SET_XSAVE"] = "KVM_SET_XSAVE [xstate_bv|=X] [xstate_bv=X] [xcomp_bv=X] [mxcsr=X] [byte@N=X] (the last image read, changed)",
        ["KVM_GET_XCRS"] = "KVM_GET_XCRS",
        ["KVM_SET_XCRS"] = "KVM_SET_XCRS VALUE|cpuid",
        ["KVM_GET_MSRS"] = "KVM_GET_MSRS MSR …",
        ["KVM_SET_MSRS"] = "KVM_SET_MSRS MSR=VALUE …",
        ["KVM_GET_ONE_REG"] = "KVM_GET_ONE_REG KVM_REG_GUEST_SSP|MSR|ID — one register: the guest's SSP, an MSR as KVM_X86_REG_MSR(index), or a raw id (a number above 32 bits)",
        ["KVM_SET_ONE_REG"] = "KVM_SET_ONE_REG REG=VALUE — REG as for KVM_GET_ONE_REG",
        ["KVM_GET_REG_LIST"] = "KVM_GET_REG_LIST [n=N] — the KVM-defined registers; without n the count is asked for first, then the list",
        ["init"] = "init — the vCPU takes INIT (an INIT IPI through its local APIC): kvm_vcpu_reset(vcpu, true)",
        ["KVM_DESTROY_VCPU"] = "KVM_DESTROY_VCPU — close the vCPU fd",
        ["save"] = "save NAME [omit=MSR,SSP,…] — the VMM saves the vCPU state (SSP: the KVM_GET_REG_LIST registers)",
        ["restore"] = "restore NAME [cpu=NAME|FILE] [kernel=V] [kvm=R] [flavour=F] — a new VMM process restores it",
        ["task"] = "task N — the task later task lines and arch_prctl act on (0: the VMM thread; others in creation order)",
        ["fork"] = "fork — the selected task forks a process",
        ["clone"] = "clone — the selected task clones a thread (CLONE_THREAD)",
        ["exec"] = "exec — the selected task calls execve()",
        ["exit"] = "exit — the selected task exits",
        ["switch"] = "switch N|idle — context switch on CPU 0 to task N, or to idle",
        ["signal"] = "signal [restorer=ADDR] — a signal is delivered to the selected task (its FPU state goes to a frame; with a shadow stack, a restore token and the restorer go to the shadow stack)",
        ["sigreturn"] = "sigreturn [noret] [token=X] [xstate_bv|=X] [xstate_bv=X] [xcomp_bv=X] [mxcsr=X] [byte@N=X] — returns from the last frame, changed (noret: without the handler's RET; token=X: the handler WRSSes X over the restore token)",
        ["sigaltstack"] = "sigaltstack N — installs an N-byte alternate signal stack (0 disables)",
        ["use"] = "use N — the selected task writes component N in user space (XFD #NM on first use of a dynamic feature)",
        ["ptrace"] = "ptrace GET|SET [changes] | GET NT_X86_SHSTK | SET NT_X86_SHSTK=SSP — NT_X86_XSTATE of the selected task (SET writes the last image read, changed), or its shadow stack pointer",
        ["check"] = "check — the model's invariants over the whole system at this point",
        ["expect"] = "expect ok | errno=E | value=N | contains=TEXT — checks the line before",
    };

    public static readonly IReadOnlySet<string> Conditions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "amx", "cet", "xsave", "xfd", "guestxsave" };

    private VmmScript(string name, IReadOnlyList<ScriptLine> lines)
    {
        Name = name;
        Lines = lines;
    }

    public string Name { get; }
    public IReadOnlyList<ScriptLine> Lines { get; }

    /// <summary>Reads and parses a script file: a regular file of at most <see cref="ScriptText.MaxFileBytes"/>.</summary>
    public static VmmScript ParseFile(string path) =>
        Parse(BoundedTextFile.ReadOrThrow(path, FileLimits, e => new VmmScriptException(path, e.Line, e.Message)), path);

    private static readonly TextFileLimits FileLimits =
        new("a VMM script", ScriptText.MaxFileBytes, ScriptText.MaxLineChars, "a script line");

    public static VmmScript Parse(string text, string file)
    {
        if (text.Length > ScriptText.MaxFileBytes)
            throw new VmmScriptException(file, 0, $"the script has {text.Length} characters; a VMM script is at most {ScriptText.MaxFileBytes} (4 MiB)");
        var lines = new List<ScriptLine>();
        int n = 0, calls = 0;
        bool sawCall = false;
        foreach (var raw in text.Split('\n'))
        {
            n++;
            if (raw.Length > ScriptText.MaxLineChars)
                throw new VmmScriptException(file, n, $"the line has {raw.Length} characters; a script line is at most {ScriptText.MaxLineChars}");
            var t = raw.TrimEnd('\r');
            int hash = CommentStart(t);
            if (hash >= 0) t = t[..hash];
            t = t.Trim();
            if (t.Length == 0) continue;
            var line = ParseLine(file, n, t, lines.Count > 0 ? lines[^1] : null, sawCall);
            if (line.Call is not (VmmCall.SetCpu or VmmCall.SetKernel or VmmCall.SetRelease or VmmCall.SetFlavour or VmmCall.Expect))
            {
                sawCall = true;
                if (++calls > ScriptText.MaxCalls)
                    throw new VmmScriptException(file, n, $"more than {ScriptText.MaxCalls} calls; a VMM script makes at most {ScriptText.MaxCalls}");
            }
            lines.Add(line);
        }
        if (!sawCall)
            throw new VmmScriptException(file, Math.Max(text.EndsWith('\n') ? n - 1 : n, 1), "the script makes no call (an empty sequence checks nothing)");
        return new VmmScript(file, lines);
    }

    private static ScriptLine ParseLine(string file, int n, string t, ScriptLine? previous, bool sawCall)
    {
        ScriptCondition? cond = null;
        if (t.StartsWith("when ", StringComparison.OrdinalIgnoreCase) || t.Equals("when", StringComparison.OrdinalIgnoreCase))
        {
            int colon = t.IndexOf(':');
            if (colon < 0) throw Error("'when' needs 'when COND: LINE'");
            cond = Condition(t[4..colon].Trim()) ?? throw Error($"unknown condition '{ScriptText.Excerpt(t[4..colon].Trim())}' (known: {string.Join(", ", Conditions)}, optionally with '!')");
            t = t[(colon + 1)..].Trim();
            if (t.Length == 0) throw Error("'when COND:' needs the line to run after the colon");
        }

        var words = t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        string verb = Verbs.Keys.FirstOrDefault(k => string.Equals(k, words[0], StringComparison.OrdinalIgnoreCase))
            ?? throw Error($"unknown call '{ScriptText.Excerpt(words[0])}' (known: {string.Join(", ", Verbs.Keys)})");
        var args = words[1..];
        VmmCall call = verb switch
        {
            "cpu" or "kernel" or "kvm" or "flavour" => Setting(),
            "expect" => Expectation(),
            "arch_prctl" => ArchPrctl(),
            "KVM_CHECK_EXTENSION" => CheckExtension(),
            "KVM_GET_DEVICE_ATTR" => DeviceAttr(),
            "KVM_CREATE_VCPU" => new VmmCall.CreateVcpu(VcpuId()),
            "vcpu" => new VmmCall.SelectVcpu(VcpuId()),
            "KVM_SET_CPUID2" => SetCpuid2(),
            "KVM_RUN" => Run(),
            "KVM_SET_XSAVE" => new VmmCall.SetXsave(Changes()),
            "KVM_SET_XCRS" => args.Length == 1 && GuestOp.Val(args[0], out var x, out var fc) ? new VmmCall.SetXcrs(x, fc) : throw Usage(),
            "KVM_GET_MSRS" => args.Length > 0 ? new VmmCall.GetMsrs(args.Select(Msr).ToArray()) : throw Usage(),
            "KVM_SET_MSRS" => args.Length > 0 ? new VmmCall.SetMsrs(args.Select(MsrAssignment).ToArray()) : throw Usage(),
            "KVM_GET_ONE_REG" => args.Length == 1 ? new VmmCall.GetOneReg(RegId(args[0])) : throw Usage(),
            "KVM_SET_ONE_REG" => args.Length == 1 ? RegAssignment(args[0]) : throw Usage(),
            "KVM_GET_REG_LIST" => RegList(),
            "task" => new VmmCall.SelectTask(SmallNumber(ScriptText.MaxTasks)),
            "fork" or "clone" => args.Length == 0 ? new VmmCall.Fork(verb == "clone") : throw Usage(),
            "exec" => args.Length == 0 ? new VmmCall.Exec() : throw Usage(),
            "exit" => args.Length == 0 ? new VmmCall.Exit() : throw Usage(),
            "switch" => args.Length == 1 && args[0].Equals("idle", StringComparison.OrdinalIgnoreCase) ? new VmmCall.Switch(null) : new VmmCall.Switch(SmallNumber(ScriptText.MaxTasks)),
            "signal" => Signal(),
            "sigreturn" => Sigreturn(),
            "sigaltstack" => args.Length == 1 && GuestOp.Num(args[0], out var ss) ? new VmmCall.Sigaltstack(ss) : throw Usage(),
            "use" => new VmmCall.UseComponent(SmallNumber(63)),
            "ptrace" => Ptrace(),
            "check" => args.Length == 0 ? new VmmCall.Check() : throw Usage(),
            "save" => Save(),
            "restore" => Restore(),
            _ => NoArgs(),
        };
        if (cond is not null && call is VmmCall.SetCpu or VmmCall.SetKernel or VmmCall.SetRelease or VmmCall.SetFlavour or VmmCall.Expect)
            throw Error($"'{verb}' cannot have a 'when' condition");
        // A KVM_RUN line's words are its guest instructions, reported per instruction rather than as arguments.
        return new ScriptLine(file, n, t, cond, verb, call is VmmCall.Run ? [] : args, call);

        VmmScriptException Error(string problem) => new(file, n, problem);
        VmmScriptException Usage() => Error("usage: " + Verbs[verb]);

        VmmCall Setting()
        {
            if (sawCall) throw Error($"'{verb}' must come before the first call");
            if (verb == "cpu" && args.Length == 2 && args[1].StartsWith("hide=", StringComparison.OrdinalIgnoreCase))
                return new VmmCall.SetCpu(Bounded(Hide(NamedCpu(args[0]), args[1][5..])));
            if (verb == "kernel" && args.Length == 2)
                return args[1].Equals("user_shstk", StringComparison.OrdinalIgnoreCase)
                    ? new VmmCall.SetKernel(Variant(args[0]), UserShadowStack: true)
                    : throw Error($"bad kernel option '{ScriptText.Excerpt(args[1])}' (user_shstk)");
            if (args.Length != 1) throw Usage();
            string a = args[0];
            switch (verb)
            {
                case "cpu":
                    return new VmmCall.SetCpu(Bounded(NamedCpu(a)));
                case "kernel":
                    return new VmmCall.SetKernel(Variant(a));
                case "kvm":
                    return KvmReleases.TryParse(a, out var rel) ? new VmmCall.SetRelease(rel) : throw Error($"unknown KVM release '{ScriptText.Excerpt(a)}' ({string.Join(", ", KvmReleases.Names)})");
                default:
                    return KvmFlavour.TryParse(a, out var fl) ? new VmmCall.SetFlavour(fl) : throw Error($"unknown flavour '{ScriptText.Excerpt(a)}' (upstream or pvm)");
            }
        }

        KernelVariant Variant(string a) => KernelVariants.Find(a) ?? throw Error($"unknown kernel variant '{ScriptText.Excerpt(a)}'");

        // A catalog name, else a CPUID dump file (as given, or next to the script).
        CpuProfile NamedCpu(string a)
        {
            if (CpuCatalog.TryGet(a, out var cpu))
                return cpu;
            string? dir = Path.GetDirectoryName(file);
            string? path = a.Length == 0 || a.Contains('\0') ? null
                : File.Exists(a) ? a
                : !Path.IsPathRooted(a) && !string.IsNullOrEmpty(dir) && File.Exists(Path.Combine(dir, a)) ? Path.Combine(dir, a)
                : null;
            if (path is null)
                throw Error($"unknown CPU '{ScriptText.Excerpt(a)}': neither a built-in CPU ({string.Join(", ", CpuCatalog.Names)}) nor a CPUID dump file");
            try
            {
                return CpuidTextReader.ReadFile(path);
            }
            catch (CpuProfileFormatException e)
            {
                throw Error($"CPU file: {e.Message}");
            }
        }

        // hide=F1,F2: the CPU a hypervisor or BIOS presents without those features (CpuidMasking.Hide, as --hide).
        CpuProfile Hide(CpuProfile cpu, string list)
        {
            var names = list.Split(',', StringSplitOptions.TrimEntries);
            foreach (var name in names)
                if (CpuidFeatureDeps.Find(name) is null)
                    throw Error($"hide: unknown feature '{ScriptText.Excerpt(name)}' (known: {string.Join(", ", CpuidFeatureDeps.Bits.Select(b => b.Name))})");
            return CpuidMasking.Hide(cpu, [.. names.Select(x => x.ToLowerInvariant()).Distinct()]);
        }

        CpuProfile Bounded(CpuProfile cpu) =>
            KvmLimits.Problem(cpu) is { } why ? throw Error($"CPU '{cpu.Name}': {why}") : cpu;

        VmmCall Expectation()
        {
            if (previous is null || previous.Call is VmmCall.Expect) throw Error("'expect' must follow the line it checks");
            if (args.Length != 1) throw Usage();
            string a = args[0];
            if (a.Equals("ok", StringComparison.OrdinalIgnoreCase))
                return new VmmCall.Expect(ExpectKind.Ok, Errno.None, 0, a);
            if (a.StartsWith("errno=", StringComparison.OrdinalIgnoreCase))
                return ErrnoName(a[6..]) is { } e ? new VmmCall.Expect(ExpectKind.Errno, e, 0, a)
                    : throw Error($"unknown errno '{ScriptText.Excerpt(a[6..])}' (a name such as EINVAL, EBUSY)");
            if (a.StartsWith("value=", StringComparison.OrdinalIgnoreCase))
                return GuestOp.Num(a[6..], out var v) ? new VmmCall.Expect(ExpectKind.Value, Errno.None, v, a) : throw Error($"bad number '{ScriptText.Excerpt(a[6..])}'");
            if (a.StartsWith("contains=", StringComparison.OrdinalIgnoreCase) && a.Length > 9)
                return new VmmCall.Expect(ExpectKind.Contains, Errno.None, 0, a);
            throw Error("usage: expect ok | errno=E | value=N | contains=TEXT");
        }

        VmmCall ArchPrctl()
        {
            if (args.Length is < 1 or > 2 || ArchPrctlOption(args[0]) is not { } opt) throw Usage();
            if (opt is >= XsaveLab.Kernel.Tasks.ArchPrctl.ShstkEnable and < XsaveLab.Kernel.Tasks.ArchPrctl.ShstkStatus)
                return args.Length == 2 ? new VmmCall.ArchPrctl(opt, ShstkFeature(args[1]), false) : throw Error($"'{ScriptText.Excerpt(args[0])}' needs a feature (shstk, wrss or a mask)");
            bool req = args[0].Contains("REQ", StringComparison.OrdinalIgnoreCase);
            if (req && (args.Length != 2 || !GuestOp.Num(args[1], out _)))
                throw Error("REQ_XCOMP_* needs a feature number");
            if (!req && args.Length != 1)
                throw Error($"'{ScriptText.Excerpt(args[0])}' takes no argument");
            ulong arg = req && GuestOp.Num(args[1], out var f) ? f : 0;
            return new VmmCall.ArchPrctl(opt, arg, !req);
        }

        // ARCH_SHSTK_SHSTK / ARCH_SHSTK_WRSS by name, or a raw mask (shstk_prctl() checks it).
        ulong ShstkFeature(string a)
        {
            foreach (var (name, bit) in XsaveLab.Kernel.Tasks.ArchPrctl.ShstkFeatureNames)
                if (a.Equals(name, StringComparison.OrdinalIgnoreCase))
                    return bit;
            return GuestOp.Num(a, out var v) ? v : throw Error($"unknown shadow stack feature '{ScriptText.Excerpt(a)}' (shstk, wrss or a mask)");
        }

        int SmallNumber(int max) =>
            args.Length == 1 && int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= max ? n : throw Usage();

        XsaveMutation[] Changes(int skip = 0) => args.Skip(skip).Select(a => XsaveMutation.Parse(a)
            ?? throw Error($"bad change '{ScriptText.Excerpt(a)}': {Verbs[verb]}")).ToArray();

        VmmCall Signal()
        {
            if (args.Length == 0) return new VmmCall.Signal(DefaultRestorer);
            return args.Length == 1 && args[0].StartsWith("restorer=", StringComparison.OrdinalIgnoreCase) && GuestOp.Num(args[0][9..], out var at)
                ? new VmmCall.Signal(at)
                : throw Usage();
        }

        VmmCall Sigreturn()
        {
            int skip = 0;
            bool noRet = false;
            ulong? token = null;
            for (; skip < args.Length; skip++)
            {
                if (args[skip].Equals("noret", StringComparison.OrdinalIgnoreCase) && !noRet)
                    noRet = true;
                else if (args[skip].StartsWith("token=", StringComparison.OrdinalIgnoreCase) && token is null)
                    token = GuestOp.Num(args[skip][6..], out var tv) ? tv : throw Error($"bad token '{ScriptText.Excerpt(args[skip])}': {Verbs[verb]}");
                else
                    break;
            }
            return new VmmCall.Sigreturn(Changes(skip), noRet, token);
        }

        VmmCall Ptrace()
        {
            if (args.Length == 0) throw Usage();
            if (args.Length == 2 && args[0].Equals("GET", StringComparison.OrdinalIgnoreCase) && args[1].Equals("NT_X86_SHSTK", StringComparison.OrdinalIgnoreCase))
                return new VmmCall.PtraceShstk(null);
            if (args.Length == 2 && args[0].Equals("SET", StringComparison.OrdinalIgnoreCase) && args[1].StartsWith("NT_X86_SHSTK=", StringComparison.OrdinalIgnoreCase))
                return GuestOp.Num(args[1][13..], out var ssp) ? new VmmCall.PtraceShstk(ssp) : throw Error($"bad SSP '{ScriptText.Excerpt(args[1][13..])}': {Verbs[verb]}");
            bool set = args[0].Equals("SET", StringComparison.OrdinalIgnoreCase);
            if (!set && !args[0].Equals("GET", StringComparison.OrdinalIgnoreCase)) throw Usage();
            if (!set && args.Length != 1) throw Usage();
            return new VmmCall.Ptrace(set, Changes(1));
        }

        VmmCall CheckExtension()
        {
            if (args.Length is < 1 or > 2 || CapNumber(args[0]) is not { } cap || args.Length == 2 && !args[1].Equals("vm", StringComparison.OrdinalIgnoreCase))
                throw Usage();
            return new VmmCall.CheckExtension(cap, args.Length == 2);
        }

        VmmCall DeviceAttr()
        {
            if (args.Length != 1) throw Usage();
            if (args[0].Equals("KVM_X86_XCOMP_GUEST_SUPP", StringComparison.OrdinalIgnoreCase))
                return new VmmCall.GetDeviceAttr(KvmAbi.XcompGuestSupp);
            return GuestOp.Num(args[0], out var attr) ? new VmmCall.GetDeviceAttr(attr) : throw Usage();
        }

        int VcpuId() =>
            args.Length == 1 && int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : throw Usage();

        VmmCall SetCpuid2()
        {
            if (args.Length > 1) throw Usage();
            if (args.Length == 0) return new VmmCall.SetCpuid2(CpuidExposure.All);
            string a = args[0];
            return a.StartsWith("expose=", StringComparison.OrdinalIgnoreCase) && CpuidExposure.Parse(a[7..]) is { } exp
                ? new VmmCall.SetCpuid2(exp)
                : throw Error($"bad argument '{ScriptText.Excerpt(a)}': {Verbs[verb]}");
        }

        VmmCall Run()
        {
            int colon = t.IndexOf("guest:", StringComparison.OrdinalIgnoreCase);
            if (colon < 0)
                return args.Length == 0 ? new VmmCall.Run([]) : throw Error("usage: KVM_RUN guest: INSN; INSN …");
            if (t[..colon].Trim().Length != verb.Length) throw Error("usage: KVM_RUN guest: INSN; INSN …");
            var ops = new List<GuestOp>();
            foreach (var part in t[(colon + 6)..].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                ops.Add(GuestOp.Parse(part, out var err) ?? throw Error($"guest instruction '{ScriptText.Excerpt(part)}': {err}"));
            if (ops.Count == 0) throw Error("'guest:' needs at least one instruction");
            return new VmmCall.Run(ops);
        }

        // KVM_REG_GUEST_SSP (or SSP), an MSR name or index (KVM_X86_REG_MSR), or a raw id wider than 32 bits.
        ulong RegId(string a)
        {
            if (a.Equals("KVM_REG_GUEST_SSP", StringComparison.OrdinalIgnoreCase) || a.Equals("SSP", StringComparison.OrdinalIgnoreCase))
                return KvmAbi.RegGuestSspId;
            if (GuestOp.Num(a, out var raw) && raw > uint.MaxValue)
                return raw;
            return MsrNames.TryParse(a, out var i) ? KvmAbi.RegMsr(i) : throw Error($"unknown register '{ScriptText.Excerpt(a)}' (KVM_REG_GUEST_SSP, an MSR, or an id)");
        }

        VmmCall RegAssignment(string a)
        {
            var kv = a.Split('=', 2);
            if (kv.Length != 2 || !GuestOp.Num(kv[1], out var v))
                throw Error($"bad register assignment '{ScriptText.Excerpt(a)}' (REG=VALUE)");
            return new VmmCall.SetOneReg(RegId(kv[0]), v);
        }

        VmmCall RegList()
        {
            if (args.Length == 0) return new VmmCall.GetRegList(null);
            return args.Length == 1 && args[0].StartsWith("n=", StringComparison.OrdinalIgnoreCase) && GuestOp.Num(args[0][2..], out var cap)
                ? new VmmCall.GetRegList(cap)
                : throw Usage();
        }

        uint Msr(string a) => MsrNames.TryParse(a, out var i) ? i : throw Error($"unknown MSR '{ScriptText.Excerpt(a)}'");

        (uint, ulong, bool) MsrAssignment(string a)
        {
            var kv = a.Split('=', 2);
            if (kv.Length != 2 || !MsrNames.TryParse(kv[0], out var i) || !GuestOp.Val(kv[1], out var v, out var fc))
                throw Error($"bad MSR assignment '{ScriptText.Excerpt(a)}' (MSR=VALUE)");
            return (i, v, fc);
        }

        VmmCall Save()
        {
            if (args.Length < 1) throw Usage();
            var omit = new List<uint>();
            bool omitRegs = false;
            foreach (var a in args[1..])
            {
                var kv = a.Split('=', 2);
                if (kv.Length != 2 || !kv[0].Equals("omit", StringComparison.OrdinalIgnoreCase))
                    throw Error($"bad argument '{ScriptText.Excerpt(a)}': {Verbs[verb]}");
                foreach (var name in kv[1].Split(','))
                {
                    if (name.Equals("SSP", StringComparison.OrdinalIgnoreCase) || name.Equals("KVM_REG_GUEST_SSP", StringComparison.OrdinalIgnoreCase))
                        omitRegs = true;
                    else
                        omit.Add(Msr(name));
                }
            }
            return new VmmCall.Save(args[0], omit, omitRegs);
        }

        VmmCall Restore()
        {
            if (args.Length < 1) throw Usage();
            CpuProfile? cpu = null;
            KernelVariant? kernel = null;
            KvmRelease? release = null;
            KvmFlavour? flavour = null;
            foreach (var a in args[1..])
            {
                var kv = a.Split('=', 2);
                string v = kv.Length == 2 ? kv[1] : "";
                switch (kv.Length == 2 ? kv[0].ToLowerInvariant() : "")
                {
                    case "cpu":
                        cpu = Bounded(NamedCpu(v));
                        break;
                    case "kernel":
                        kernel = KernelVariants.Find(v) ?? throw Error($"unknown kernel variant '{ScriptText.Excerpt(v)}'");
                        break;
                    case "kvm":
                        release = KvmReleases.TryParse(v, out var r) ? r : throw Error($"unknown KVM release '{ScriptText.Excerpt(v)}' ({string.Join(", ", KvmReleases.Names)})");
                        break;
                    case "flavour":
                        flavour = v.Length > 0 && KvmFlavour.TryParse(v, out var f) ? f : throw Error($"unknown flavour '{ScriptText.Excerpt(v)}' (upstream or pvm)");
                        break;
                    default:
                        throw Error($"bad argument '{ScriptText.Excerpt(a)}': {Verbs[verb]}");
                }
            }
            return new VmmCall.Restore(args[0], cpu, kernel, release, flavour);
        }

        VmmCall NoArgs()
        {
            if (args.Length != 0) throw Error($"'{verb}' takes no arguments");
            return verb switch
            {
                "KVM_GET_SUPPORTED_CPUID" => new VmmCall.GetSupportedCpuid(),
                "KVM_GET_MSR_INDEX_LIST" => new VmmCall.GetMsrIndexList(),
                "KVM_CREATE_VM" => new VmmCall.CreateVm(),
                "KVM_GET_CPUID2" => new VmmCall.GetCpuid2(),
                "KVM_GET_XSAVE" => new VmmCall.GetXsave(false),
                "KVM_GET_XSAVE2" => new VmmCall.GetXsave(true),
                "KVM_GET_XCRS" => new VmmCall.GetXcrs(),
                "KVM_DESTROY_VCPU" => new VmmCall.DestroyVcpu(),
                "init" => new VmmCall.Init(),
                _ => throw new InvalidOperationException($"verb '{verb}' has no parser"),
            };
        }
    }

    private static ScriptCondition? Condition(string s)
    {
        bool neg = s.StartsWith('!');
        ConditionKind? kind = s.TrimStart('!').ToLowerInvariant() switch
        {
            "amx" => ConditionKind.Amx,
            "cet" => ConditionKind.Cet,
            "xsave" => ConditionKind.Xsave,
            "xfd" => ConditionKind.Xfd,
            "guestxsave" => ConditionKind.GuestXsave,
            _ => null,
        };
        return kind is { } k && s.Count(c => c == '!') <= 1 ? new ScriptCondition(k, neg) : null;
    }

    /// <summary>An errno by its symbolic name only (<c>EBUSY</c>, case-insensitive); numbers are not names.</summary>
    private static Errno? ErrnoName(string s) =>
        s.Length > 0 && char.IsLetter(s[0]) && Enum.TryParse<Errno>(s, true, out var e) && e != Errno.None && Enum.IsDefined(e) ? e : null;

    /// <summary>A comment is '#' at the start of a line or '#' followed by a blank ('#GP' is an expectation).</summary>
    private static int CommentStart(string t)
    {
        for (int i = 0; i < t.Length; i++)
            if (t[i] == '#' && (i == 0 || i + 1 == t.Length || char.IsWhiteSpace(t[i + 1])))
                return i;
        return -1;
    }

    public static int? ArchPrctlOption(string s) => s.ToUpperInvariant().Replace("ARCH_", "") switch
    {
        "GET_XCOMP_SUPP" => XsaveLab.Kernel.Tasks.ArchPrctl.GetXcompSupp,
        "GET_XCOMP_PERM" => XsaveLab.Kernel.Tasks.ArchPrctl.GetXcompPerm,
        "REQ_XCOMP_PERM" => XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompPerm,
        "GET_XCOMP_GUEST_PERM" => XsaveLab.Kernel.Tasks.ArchPrctl.GetXcompGuestPerm,
        "REQ_XCOMP_GUEST_PERM" => XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm,
        "SHSTK_ENABLE" => XsaveLab.Kernel.Tasks.ArchPrctl.ShstkEnable,
        "SHSTK_DISABLE" => XsaveLab.Kernel.Tasks.ArchPrctl.ShstkDisable,
        "SHSTK_LOCK" => XsaveLab.Kernel.Tasks.ArchPrctl.ShstkLock,
        "SHSTK_UNLOCK" => XsaveLab.Kernel.Tasks.ArchPrctl.ShstkUnlock,
        "SHSTK_STATUS" => XsaveLab.Kernel.Tasks.ArchPrctl.ShstkStatus,
        _ => null,
    };

    /// <summary>The sa_restorer a <c>signal</c> line installs unless it names one: a user address standing for
    /// libc's <c>__restore_rt</c> (glibc always sets SA_RESTORER). Only 0 — no restorer — changes an outcome
    /// (<c>setup_signal_shadow_stack()</c>: -EINVAL).</summary>
    public const ulong DefaultRestorer = 0x40_1000;

    public static int? CapNumber(string s) => s.ToUpperInvariant() switch
    {
        "KVM_CAP_XSAVE" => KvmAbi.CapXsave,
        "KVM_CAP_XCRS" => KvmAbi.CapXcrs,
        "KVM_CAP_XSAVE2" => KvmAbi.CapXsave2,
        _ => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null,
    };
}
