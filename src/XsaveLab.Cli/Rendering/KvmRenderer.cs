using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record KvmGuestJson(string Insn, string Outcome, string Fault, string? ExpectationFailed);

/// <summary>One executed line; <c>guest</c> only for a KVM_RUN that ran guest instructions, <c>expect</c> and
/// <c>expectMet</c> only when an <c>expect</c> line checked it.</summary>
public sealed record KvmStepJson(
    int Line, string Ioctl, string Args, string Result,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Output, string Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<KvmGuestJson>? Guest,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Expect,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? ExpectMet);

public sealed record KvmCpuidJson(string Leaf, uint Subleaf, string Eax, string Ebx, string Ecx, string Edx);

public sealed record FpstateJson(int Size, string Features);

/// <summary>A built-in pitfall: what goes wrong, on which kernels, how it shows, and what happened in this run.</summary>
public sealed record KvmPitfallJson(string What, string Kernels, string Shows, string Outcome);

public sealed record KvmJson(
    string Cpu, string Kernel, string Kvm, string Flavour, string Vmm, bool Ok, IReadOnlyList<KvmStepJson> Steps, int Xsave2Size,
    IReadOnlyList<KvmCpuidJson> SupportedCpuid, FpstateJson? GuestFpstate, FpstateJson? GuestFpstateAtCreate, FpstateJson HostFpstate,
    IReadOnlyList<CetStateLocation> CetState, IReadOnlyList<string> Notes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VariantEffectJson? VariantEffect,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] KvmPitfallJson? Pitfall);

/// <summary><c>kvm</c>: each ioctl with its result, the guest's CPUID 0xD, the XSAVE2 size, guest vs host fpstate
/// and where CET state lives. Exit 1 when an expectation was not met.</summary>
public sealed class KvmRenderer(CpuSelection selection) : IRenderer<KvmReport>
{
    public int ExitCode(KvmReport r) => r.Ok ? 0 : 1;

    public object ToJson(KvmReport r) => new KvmJson(
        r.Cpu, r.Kernel, r.Kvm, r.Flavour, r.Vmm, r.Ok, [.. r.Steps.Select(Step)], r.Xsave2Size,
        [.. r.SupportedCpuid.Select(e => new KvmCpuidJson(Json.Hex(e.Function), e.Index, Json.Hex(e.Eax), Json.Hex(e.Ebx), Json.Hex(e.Ecx), Json.Hex(e.Edx)))],
        Fpstate(r.GuestFpstate), Fpstate(r.GuestFpstateAtCreate), Fpstate(r.HostFpstate)!, r.CetState, r.Notes,
        VariantEffectJson.From(r.Effect),
        r.Pitfall is { } p ? new KvmPitfallJson(p.What, p.Kernels, p.Shows, r.Outcome ?? "") : null);

    private static KvmStepJson Step(KvmStep s) => new(
        s.Line, s.Ioctl, s.Args, s.ResultText, s.OutputText, s.Text,
        s.Guest.Count > 0 ? [.. s.Guest.Select(g => new KvmGuestJson(g.Op, g.Text, g.Fault.Kind.ToString(), g.ExpectationFailure))] : null,
        s.Expect, s.Expect is null ? null : s.ExpectMet);

    /// <summary>A step's output in the number style; a feature mask stays in hex as <see cref="KvmStep.OutputText"/> has it.</summary>
    private static string Output(KvmStep s) =>
        s.Output is long o && s.OutputText?.StartsWith("0x", StringComparison.Ordinal) == false ? Numbers.Int(o) : s.OutputText ?? "";

    internal static FpstateJson? Fpstate(FpstateView? f) => f is null ? null : new(f.Size, Json.Hex(f.Features));

    public void RenderText(IAnsiConsole c, KvmReport r)
    {
        c.WriteLine($"CPU: {r.Cpu} - {LayoutRenderer.Describe(selection)}; kernel {r.Kernel}; KVM {r.Kvm} ({r.Flavour}); VMM sequence '{r.Vmm}'");
        if (r.Pitfall is { } p)
        {
            c.WriteWrapped($"Pitfall: {p.What}");
            c.WriteWrapped($"  kernels: {p.Kernels}");
            c.WriteWrapped($"  shows: {p.Shows}");
        }
        // "result" is what the call returned; what it wrote to the caller's memory is its output (KvmStep.Output).
        var steps = new TextTable("line", "call", "result", "output", "detail").AlignRight(0, 2, 3);
        foreach (var s in r.Steps)
        {
            string detail = s.Text + string.Concat(s.Guest.Select(g => "\n  guest: " + g));
            if (s.Expect is not null)
                detail += $"\n  expect {s.Expect}: {(s.ExpectMet == true ? "met" : "NOT MET")}";
            steps.AddRow(Numbers.Int(s.Line), (s.Ioctl + " " + s.Args).Trim(), s.Result.Ok ? Numbers.Int(s.Result.Value) : s.ResultText, Output(s), detail);
        }
        steps.Write(c);

        var cpuid = new TextTable("subleaf", "eax", "ebx", "ecx", "edx").Title("KVM_GET_SUPPORTED_CPUID leaf 0xd");
        foreach (var e in r.SupportedCpuid)
            cpuid.AddRow(Numbers.Int(e.Index), $"0x{e.Eax:x8}", $"0x{e.Ebx:x8}", $"0x{e.Ecx:x8}", $"0x{e.Edx:x8}");
        cpuid.Write(c);
        c.WriteLine($"KVM_CAP_XSAVE2 (this process's guest permission): {Numbers.Bytes(r.Xsave2Size)}");

        var fp = new TextTable("fpstate", "size", "features").AlignRight(1);
        if (r.GuestFpstateAtCreate is { } g0)
            fp.AddRow("vCPU 0 at creation", Numbers.Int(g0.Size), $"{Json.Hex(g0.Features)} {g0.Describe}");
        if (r.GuestFpstate is { } g)
            fp.AddRow("vCPU 0 now", Numbers.Int(g.Size), $"{Json.Hex(g.Features)} {g.Describe}");
        fp.AddRow("host task (default)", Numbers.Int(r.HostFpstate.Size), $"{Json.Hex(r.HostFpstate.Features)} {r.HostFpstate.Describe}");
        fp.Write(c);

        var cet = new TextTable("MSR", "guest value lives in").Title("CET state");
        foreach (var x in r.CetState)
            cet.AddRow(x.Msr, x.Location);
        cet.Write(c);
        foreach (var n in r.Notes)
            c.WriteLine("note: " + n);
        VariantEffectRendering.Write(c, r.Effect, $"this sequence on {r.Cpu}");
        c.WriteLine(r.Ok ? "All expectations met." : "Some expectations were NOT met.");
        // A pitfall ends with what it did here: the reader should not have to infer it from the rows.
        if (r.Outcome is { } outcome)
            c.WriteWrapped(outcome);
    }
}
