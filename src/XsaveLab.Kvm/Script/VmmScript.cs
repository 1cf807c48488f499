using System.Globalization;
using XsaveLab.Kvm.Abi;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Kvm.Script;

/// <summary>A script error: names the file and line. Nothing runs when parsing fails.</summary>
public sealed class VmmScriptException(string file, int line, string problem)
    : Exception($"{file}:{line}: {problem}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Problem { get; } = problem;
}

/// <summary>One parsed line: an optional condition (<c>when amx:</c>), the verb (an ioctl, <c>arch_prctl</c>, or a
/// directive) and its words; KVM_RUN lines carry their guest instructions.</summary>
public sealed record ScriptLine(string File, int Number, string Text, string? Condition, string Verb, IReadOnlyList<string> Args,
    IReadOnlyList<GuestOp> Guest);

/// <summary>VMM sequences as text: one ioctl per line, <c>#</c> comments, <c>expect …</c> lines checking the line
/// before. See <see cref="Verbs"/> for what each line may say.</summary>
public sealed class VmmScript
{
    public static readonly IReadOnlyDictionary<string, string> Verbs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["cpu"] = "cpu NAME — the CPU of the VMM process (before any call)",
        ["kernel"] = "kernel VARIANT — host kernel variant (before any call)",
        ["kvm"] = "kvm 6.17|6.18 — KVM release (before any call)",
        ["flavour"] = "flavour upstream|pvm — KVM flavour (before any call)",
        ["arch_prctl"] = "arch_prctl GET_XCOMP_SUPP|GET_XCOMP_PERM|GET_XCOMP_GUEST_PERM|REQ_XCOMP_PERM N|REQ_XCOMP_GUEST_PERM N",
        ["KVM_CHECK_EXTENSION"] = "KVM_CHECK_EXTENSION KVM_CAP_XSAVE|KVM_CAP_XCRS|KVM_CAP_XSAVE2|N [vm]",
        ["KVM_GET_SUPPORTED_CPUID"] = "KVM_GET_SUPPORTED_CPUID",
        ["KVM_GET_DEVICE_ATTR"] = "KVM_GET_DEVICE_ATTR KVM_X86_XCOMP_GUEST_SUPP",
        ["KVM_GET_MSR_INDEX_LIST"] = "KVM_GET_MSR_INDEX_LIST",
        ["KVM_CREATE_VM"] = "KVM_CREATE_VM",
        ["KVM_CREATE_VCPU"] = "KVM_CREATE_VCPU ID",
        ["vcpu"] = "vcpu ID — the vCPU later lines address",
        ["KVM_SET_CPUID2"] = "KVM_SET_CPUID2 [expose=all|none|amx,tilecfg,tiledata,cet,-avx512,-mpx,-pkru] (from the last KVM_GET_SUPPORTED_CPUID; AMX and CET only when named, '-' hides)",
        ["KVM_GET_CPUID2"] = "KVM_GET_CPUID2",
        ["KVM_RUN"] = "KVM_RUN guest: INSN; INSN … (INSN => ok|#GP|#UD|#NM|VALUE checks it)",
        ["KVM_GET_XSAVE"] = "KVM_GET_XSAVE",
        ["KVM_GET_XSAVE2"] = "KVM_GET_XSAVE2",
        ["KVM_SET_XSAVE"] = "KVM_SET_XSAVE [xstate_bv|=X] [xstate_bv=X] [xcomp_bv=X] [mxcsr=X] [byte@N=X] (the last image read, changed)",
        ["KVM_GET_XCRS"] = "KVM_GET_XCRS",
        ["KVM_SET_XCRS"] = "KVM_SET_XCRS VALUE|cpuid",
        ["KVM_GET_MSRS"] = "KVM_GET_MSRS MSR …",
        ["KVM_SET_MSRS"] = "KVM_SET_MSRS MSR=VALUE …",
        ["KVM_DESTROY_VCPU"] = "KVM_DESTROY_VCPU — close the vCPU fd",
        ["save"] = "save NAME [omit=MSR,MSR] — the VMM saves the vCPU state",
        ["restore"] = "restore NAME [cpu=X] [kernel=V] [kvm=R] — a new VMM process restores it",
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

    public static VmmScript ParseFile(string path)
    {
        if (!System.IO.File.Exists(path))
            throw new VmmScriptException(path, 0, "file not found");
        return Parse(System.IO.File.ReadAllText(path), path);
    }

    public static VmmScript Parse(string text, string file)
    {
        var lines = new List<ScriptLine>();
        int n = 0;
        bool sawCall = false;
        foreach (var raw in text.Split('\n'))
        {
            n++;
            var t = raw.TrimEnd('\r');
            int hash = CommentStart(t);
            if (hash >= 0) t = t[..hash];
            t = t.Trim();
            if (t.Length == 0) continue;

            string? cond = null;
            if (t.StartsWith("when ", StringComparison.OrdinalIgnoreCase))
            {
                int colon = t.IndexOf(':');
                if (colon < 0) throw new VmmScriptException(file, n, "'when' needs 'when COND: LINE'");
                cond = t[5..colon].Trim();
                if (!Conditions.Contains(cond.TrimStart('!')))
                    throw new VmmScriptException(file, n, $"unknown condition '{cond}' (known: {string.Join(", ", Conditions)}, optionally with '!')");
                t = t[(colon + 1)..].Trim();
            }

            var words = t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            string verb = words[0];
            if (!Verbs.ContainsKey(verb))
                throw new VmmScriptException(file, n, $"unknown call '{verb}' (known: {string.Join(", ", Verbs.Keys)})");
            verb = Verbs.Keys.First(k => string.Equals(k, verb, StringComparison.OrdinalIgnoreCase));
            var args = words.Skip(1).ToArray();
            IReadOnlyList<GuestOp> guest = [];

            switch (verb)
            {
                case "cpu" or "kernel" or "kvm" or "flavour":
                    if (sawCall) throw new VmmScriptException(file, n, $"'{verb}' must come before the first call");
                    Need(1);
                    break;
                case "expect":
                    if (lines.Count == 0 || lines[^1].Verb is "expect") throw new VmmScriptException(file, n, "'expect' must follow the line it checks");
                    if (args.Length != 1 || !ValidExpect(args[0]))
                        throw new VmmScriptException(file, n, "usage: expect ok | errno=E | value=N | contains=TEXT");
                    break;
                case "KVM_RUN":
                {
                    int colon = t.IndexOf("guest:", StringComparison.OrdinalIgnoreCase);
                    if (colon < 0)
                    {
                        if (args.Length != 0) throw new VmmScriptException(file, n, "usage: KVM_RUN guest: INSN; INSN …");
                        break;
                    }
                    var ops = new List<GuestOp>();
                    foreach (var part in t[(colon + 6)..].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        ops.Add(GuestOp.Parse(part, out var err) ?? throw new VmmScriptException(file, n, $"guest instruction '{part}': {err}"));
                    guest = ops;
                    args = [];
                    break;
                }
                case "arch_prctl":
                    if (args.Length is < 1 or > 2 || ArchPrctlOption(args[0]) is null)
                        throw new VmmScriptException(file, n, "usage: " + Verbs[verb]);
                    if (args[0].Contains("REQ", StringComparison.OrdinalIgnoreCase) && (args.Length != 2 || !GuestOp.Num(args[1], out _)))
                        throw new VmmScriptException(file, n, "REQ_XCOMP_* needs a feature number");
                    break;
                case "KVM_CREATE_VCPU" or "vcpu":
                    if (args.Length != 1 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out _))
                        throw new VmmScriptException(file, n, $"usage: {Verbs[verb]}");
                    break;
                case "KVM_SET_XCRS":
                    if (args.Length != 1 || !GuestOp.Val(args[0], out _, out _)) throw new VmmScriptException(file, n, "usage: " + Verbs[verb]);
                    break;
                case "KVM_GET_MSRS":
                    if (args.Length == 0) throw new VmmScriptException(file, n, "usage: " + Verbs[verb]);
                    foreach (var a in args)
                        if (!MsrNames.TryParse(a, out _)) throw new VmmScriptException(file, n, $"unknown MSR '{a}'");
                    break;
                case "KVM_SET_MSRS":
                    if (args.Length == 0) throw new VmmScriptException(file, n, "usage: " + Verbs[verb]);
                    foreach (var a in args)
                    {
                        var kv = a.Split('=', 2);
                        if (kv.Length != 2 || !MsrNames.TryParse(kv[0], out _) || !GuestOp.Val(kv[1], out _, out _))
                            throw new VmmScriptException(file, n, $"bad MSR assignment '{a}' (MSR=VALUE)");
                    }
                    break;
                case "KVM_SET_CPUID2":
                    foreach (var a in args)
                        if (!a.StartsWith("expose=", StringComparison.OrdinalIgnoreCase) || CpuidExposure.Parse(a[7..]) is null)
                            throw new VmmScriptException(file, n, $"bad argument '{a}': {Verbs[verb]}");
                    break;
                case "KVM_SET_XSAVE":
                    foreach (var a in args)
                        if (XsaveMutation.Parse(a) is null)
                            throw new VmmScriptException(file, n, $"bad change '{a}': {Verbs[verb]}");
                    break;
                case "save" or "restore":
                    if (args.Length < 1) throw new VmmScriptException(file, n, "usage: " + Verbs[verb]);
                    foreach (var a in args.Skip(1))
                    {
                        var kv = a.Split('=', 2);
                        var allowed = verb == "save" ? new[] { "omit" } : ["cpu", "kernel", "kvm", "flavour"];
                        if (kv.Length != 2 || !allowed.Contains(kv[0], StringComparer.OrdinalIgnoreCase))
                            throw new VmmScriptException(file, n, $"bad argument '{a}': {Verbs[verb]}");
                        if (kv[0].Equals("omit", StringComparison.OrdinalIgnoreCase))
                            foreach (var m in kv[1].Split(','))
                                if (!MsrNames.TryParse(m, out _)) throw new VmmScriptException(file, n, $"unknown MSR '{m}'");
                    }
                    break;
                case "KVM_CHECK_EXTENSION":
                    if (args.Length is < 1 or > 2 || CapNumber(args[0]) is null || args.Length == 2 && !args[1].Equals("vm", StringComparison.OrdinalIgnoreCase))
                        throw new VmmScriptException(file, n, "usage: " + Verbs[verb]);
                    break;
                case "KVM_GET_DEVICE_ATTR":
                    if (args.Length != 1) throw new VmmScriptException(file, n, "usage: " + Verbs[verb]);
                    break;
                default:
                    if (args.Length != 0) throw new VmmScriptException(file, n, $"'{verb}' takes no arguments");
                    break;
            }
            if (verb is not ("cpu" or "kernel" or "kvm" or "flavour" or "expect"))
                sawCall = true;
            lines.Add(new ScriptLine(file, n, t, cond, verb, args, guest));

            void Need(int k)
            {
                if (args.Length != k) throw new VmmScriptException(file, n, "usage: " + Verbs[verb]);
            }
        }
        return new VmmScript(file, lines);
    }

    /// <summary>A comment is '#' at the start of a line or '#' followed by a blank ('#GP' is an expectation).</summary>
    private static int CommentStart(string t)
    {
        for (int i = 0; i < t.Length; i++)
            if (t[i] == '#' && (i == 0 || i + 1 == t.Length || char.IsWhiteSpace(t[i + 1])))
                return i;
        return -1;
    }

    private static bool ValidExpect(string a) =>
        a.Equals("ok", StringComparison.OrdinalIgnoreCase)
        || a.StartsWith("errno=", StringComparison.OrdinalIgnoreCase) && Enum.TryParse<Errno>(a[6..], true, out _)
        || a.StartsWith("value=", StringComparison.OrdinalIgnoreCase) && GuestOp.Num(a[6..], out _)
        || a.StartsWith("contains=", StringComparison.OrdinalIgnoreCase) && a.Length > 9;

    public static int? ArchPrctlOption(string s) => s.ToUpperInvariant().Replace("ARCH_", "") switch
    {
        "GET_XCOMP_SUPP" => XsaveLab.Kernel.Tasks.ArchPrctl.GetXcompSupp,
        "GET_XCOMP_PERM" => XsaveLab.Kernel.Tasks.ArchPrctl.GetXcompPerm,
        "REQ_XCOMP_PERM" => XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompPerm,
        "GET_XCOMP_GUEST_PERM" => XsaveLab.Kernel.Tasks.ArchPrctl.GetXcompGuestPerm,
        "REQ_XCOMP_GUEST_PERM" => XsaveLab.Kernel.Tasks.ArchPrctl.ReqXcompGuestPerm,
        _ => null,
    };

    public static int? CapNumber(string s) => s.ToUpperInvariant() switch
    {
        "KVM_CAP_XSAVE" => KvmAbi.CapXsave,
        "KVM_CAP_XCRS" => KvmAbi.CapXcrs,
        "KVM_CAP_XSAVE2" => KvmAbi.CapXsave2,
        _ => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null,
    };
}
