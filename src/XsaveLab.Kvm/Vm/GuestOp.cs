namespace XsaveLab.Kvm.Vm;

/// <summary>What a guest instruction did: its fault (injected into the guest) and the value it produced.</summary>
public sealed record GuestOutcome(string Op, XsaveFault Fault, ulong? Value, string Text, string? ExpectationFailure = null)
{
    public override string ToString() => ExpectationFailure is null ? $"{Op}: {Text}" : $"{Op}: {Text} [EXPECTED {ExpectationFailure}]";
}

/// <summary>What a guest instruction is expected to do (<c>=&gt; ok</c>, <c>=&gt; #GP</c>, <c>=&gt; 0x40000</c>): run
/// without a fault, raise <see cref="Fault"/>, or run and produce <see cref="Value"/>.</summary>
public sealed record GuestExpectation(string Text, FaultKind Fault, ulong? Value)
{
    public static GuestExpectation? Parse(string text)
    {
        string t = text.Trim();
        return t.ToLowerInvariant() switch
        {
            "ok" => new(t, FaultKind.None, null),
            "#gp" => new(t, FaultKind.GeneralProtection, null),
            "#ud" => new(t, FaultKind.InvalidOpcode, null),
            "#nm" => new(t, FaultKind.DeviceNotAvailable, null),
            "#pf" => new(t, FaultKind.PageFault, null),
            "#cp" => new(t, FaultKind.ControlProtection, null),
            _ => GuestOp.Num(t, out var v) ? new(t, FaultKind.None, v) : null,
        };
    }

    public bool MetBy(GuestOutcome o) => Value is { } v
        ? !o.Fault.IsFault && o.Value == v
        : Fault == FaultKind.None ? !o.Fault.IsFault : o.Fault.Kind == Fault;
}

/// <summary>Kinds of guest instruction the model runs inside KVM_RUN.</summary>
public enum GuestOpKind
{
    SetCr4OsXsave,
    Cpl,
    Xsetbv,
    Xgetbv,
    Rdmsr,
    Wrmsr,
    Ldtilecfg,
    Tileloadd,
    Tilerelease,
    WriteComponent,
    InitComponent,
    SetXstateBv,
    Xsave,
    Xsavec,
    Xsaveopt,
    Xsaves,
    Xrstor,
    Xrstors,
    Cpuid,
    ShstkEnable,
    Call,
    Ret,
}

/// <summary>One guest instruction with an optional expected outcome (<c>=&gt; #GP</c>, <c>=&gt; 0x40000</c>, <c>=&gt; ok</c>).</summary>
public sealed record GuestOp(GuestOpKind Kind, string Text, uint Ecx = 0, ulong Value = 0, uint Msr = 0, int Component = 0,
    string Buffer = "", string? Expect = null, bool FromCpuid = false, GuestExpectation? Outcome = null)
{
    /// <summary>Parses e.g. <c>xsetbv 0x602e7</c>, <c>wrmsr IA32_XFD 0x40000</c>, <c>tileloadd =&gt; #NM</c>,
    /// <c>xsavec buf 0x40000</c>, <c>rdmsr IA32_XFD_ERR =&gt; 0x40000</c>. Returns null and an error on bad input.</summary>
    public static GuestOp? Parse(string text, out string? error)
    {
        var r = ParseCore(text, out var err);
        error = r is null ? err ?? $"bad guest instruction '{text.Trim()}'" : null;
        return r;
    }

    private static GuestOp? ParseCore(string text, out string? errorOut)
    {
        string? error = null;
        errorOut = null;
        string? expect = null;
        var t = text.Trim();
        int arrow = t.IndexOf("=>", StringComparison.Ordinal);
        if (arrow >= 0)
        {
            expect = t[(arrow + 2)..].Trim();
            t = t[..arrow].Trim();
            if (expect.Length == 0) { errorOut = "empty expectation after '=>'"; return null; }
            if (GuestExpectation.Parse(expect) is null)
            {
                errorOut = $"unknown outcome '{ScriptText.Excerpt(expect)}' after '=>' (ok, #GP, #UD, #NM, #PF, #CP or a number)";
                return null;
            }
        }
        var w = t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (w.Length == 0) { errorOut = "empty guest instruction"; return null; }
        string op = w[0].ToLowerInvariant();
        GuestOp? r = null;
        switch (op)
        {
            case "cr4.osxsave" or "set_cr4_osxsave":
                r = Need(0) ? new(GuestOpKind.SetCr4OsXsave, t) : null; break;
            case "cpl":
                r = Need(1) && Num(w[1], out var cpl) ? new(GuestOpKind.Cpl, t, Value: cpl) : null; break;
            case "xsetbv":
                if (w.Length == 2 && Val(w[1], out var v, out var cv)) r = new(GuestOpKind.Xsetbv, t, 0, v, FromCpuid: cv);
                else if (w.Length == 3 && Num(w[1], out var e) && Val(w[2], out var v2, out var cv2)) r = new(GuestOpKind.Xsetbv, t, (uint)e, v2, FromCpuid: cv2);
                else error ??= "usage: xsetbv [ECX] VALUE";
                break;
            case "xgetbv":
                if (w.Length == 1) r = new(GuestOpKind.Xgetbv, t);
                else if (w.Length == 2 && Num(w[1], out var e1)) r = new(GuestOpKind.Xgetbv, t, (uint)e1);
                else error ??= "usage: xgetbv [ECX]";
                break;
            case "rdmsr":
                r = Need(1) && MsrNames.TryParse(w[1], out var m1) ? new(GuestOpKind.Rdmsr, t, Msr: m1) : Fail($"unknown MSR '{(w.Length > 1 ? w[1] : "")}'");
                break;
            case "wrmsr":
                r = Need(2) && MsrNames.TryParse(w[1], out var m2) && Val(w[2], out var mv, out var cm) ? new(GuestOpKind.Wrmsr, t, Msr: m2, Value: mv, FromCpuid: cm) : Fail("usage: wrmsr MSR VALUE");
                break;
            case "cpuid":
                if (w.Length is 2 or 3 && Num(w[1], out var leaf) && (w.Length == 2 || Num(w[2], out _)))
                {
                    Num(w.Length == 3 ? w[2] : "0", out var subl);
                    r = new(GuestOpKind.Cpuid, t, Ecx: (uint)subl, Msr: (uint)leaf);
                }
                else error ??= "usage: cpuid LEAF [SUBLEAF] (the value is EBX)";
                break;
            case "shstk_enable":
                r = Need(1) ? new(GuestOpKind.ShstkEnable, t, Buffer: w[1]) : null; break;
            case "call" or "ret":
                r = Need(1) && Num(w[1], out var ra) ? new(op == "call" ? GuestOpKind.Call : GuestOpKind.Ret, t, Value: ra) : Fail($"usage: {op} RETURN_ADDRESS");
                break;
            case "ldtilecfg": r = Need(0) ? new(GuestOpKind.Ldtilecfg, t) : null; break;
            case "tileloadd": r = Need(0) ? new(GuestOpKind.Tileloadd, t) : null; break;
            case "tilerelease": r = Need(0) ? new(GuestOpKind.Tilerelease, t) : null; break;
            case "write" or "init":
                r = Need(1) && Comp(w[1], out var c) ? new(op == "write" ? GuestOpKind.WriteComponent : GuestOpKind.InitComponent, t, Component: c) : Fail($"unknown component '{(w.Length > 1 ? w[1] : "")}'");
                break;
            case "set_xstate_bv":
                r = Need(2) && Num(w[2], out var bv) ? new(GuestOpKind.SetXstateBv, t, Value: bv, Buffer: w[1]) : Fail("usage: set_xstate_bv BUFFER VALUE");
                break;
            case "xsave" or "xsavec" or "xsaveopt" or "xsaves" or "xrstor" or "xrstors":
                var kind = op switch
                {
                    "xsave" => GuestOpKind.Xsave,
                    "xsavec" => GuestOpKind.Xsavec,
                    "xsaveopt" => GuestOpKind.Xsaveopt,
                    "xsaves" => GuestOpKind.Xsaves,
                    "xrstor" => GuestOpKind.Xrstor,
                    _ => GuestOpKind.Xrstors,
                };
                r = Need(2) && Val(w[2], out var rfbm, out var cr) ? new(kind, t, Value: rfbm, Buffer: w[1], FromCpuid: cr) : Fail($"usage: {op} BUFFER RFBM");
                break;
            default:
                errorOut = $"unknown guest instruction '{w[0]}'";
                return null;
        }
        if (r is null) { errorOut = error ?? $"bad operands in '{t}'"; return null; }
        return r with { Expect = expect, Outcome = expect is null ? null : GuestExpectation.Parse(expect) };

        bool Need(int n)
        {
            if (w.Length - 1 == n) return true;
            error = $"'{w[0]}' takes {n} operand(s)";
            return false;
        }
        GuestOp? Fail(string msg) { error ??= msg; return null; }
    }

    /// <summary>A value: numbers, <c>all</c> (every bit) and <c>cpuid</c> (the vCPU's CPUID-enumerated XCR0, or XSS
    /// for IA32_XSS, or XCR0|XSS for XSAVES/XRSTORS), joined with <c>|</c>.</summary>
    internal static bool Val(string s, out ulong v, out bool fromCpuid)
    {
        v = 0;
        fromCpuid = false;
        foreach (var part in s.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.Equals(part, "cpuid", StringComparison.OrdinalIgnoreCase)) fromCpuid = true;
            else if (string.Equals(part, "all", StringComparison.OrdinalIgnoreCase)) v = ulong.MaxValue;
            else if (Num(part, out var n)) v |= n;
            else return false;
        }
        return true;
    }

    internal static bool Num(string s, out ulong v)
    {
        s = s.Replace("_", "");
        return s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
    }

    internal static bool Comp(string s, out int c)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out c) && c is >= 0 and < 64)
            return true;
        for (int i = 0; i < Arch.Features.XFeatureTable.Count; i++)
            if (string.Equals(Arch.Features.XFeatureTable.Get(i).ShortName, s, StringComparison.OrdinalIgnoreCase))
            {
                c = i;
                return true;
            }
        c = s.ToLowerInvariant() switch { "ymm" => 2, "x87" or "fp" => 0, "xtilecfg" or "tilecfg" => 17, "xtiledata" or "tiledata" => 18, _ => -1 };
        return c >= 0;
    }
}

/// <summary>Names of the MSRs the model knows.</summary>
public static class MsrNames
{
    private static readonly (string Name, uint Index)[] Table =
    [
        ("IA32_XSS", Msr.IA32_XSS), ("IA32_XFD", Msr.IA32_XFD), ("IA32_XFD_ERR", Msr.IA32_XFD_ERR),
        ("IA32_U_CET", Msr.IA32_U_CET), ("IA32_S_CET", Msr.IA32_S_CET), ("IA32_PL0_SSP", Msr.IA32_PL0_SSP),
        ("IA32_PL1_SSP", Msr.IA32_PL1_SSP), ("IA32_PL2_SSP", Msr.IA32_PL2_SSP), ("IA32_PL3_SSP", Msr.IA32_PL3_SSP),
        ("IA32_INT_SSP_TAB", Msr.IA32_INT_SSP_TAB),
    ];

    public static IReadOnlyList<uint> All { get; } = Table.Select(t => t.Index).ToArray();

    public static bool TryParse(string s, out uint index)
    {
        foreach (var (n, i) in Table)
            if (string.Equals(n, s, StringComparison.OrdinalIgnoreCase) || string.Equals(n[5..], s, StringComparison.OrdinalIgnoreCase))
            {
                index = i;
                return true;
            }
        index = 0;
        return GuestOp.Num(s, out var v) && v <= uint.MaxValue && (index = (uint)v) == v;
    }

    public static string Name(uint index) => Table.FirstOrDefault(t => t.Index == index).Name ?? $"0x{index:x}";
}
