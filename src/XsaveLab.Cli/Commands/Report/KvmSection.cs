namespace XsaveLab.Cli.Commands.Report;

public sealed record KvmVariantJson(
    string Kernel, int Xsave2Size, FpstateJson GuestFpstateAtCreate, FpstateJson HostFpstate, IReadOnlyList<CetStateLocation> CetState,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VariantEffectJson? VariantEffect = null);

/// <summary>The KVM view: a QEMU-like start on upstream KVM 6.18 for every kernel variant — XSAVE2 size, the guest
/// fpstate at vCPU creation next to the host task's, whether CET is offered, where CET-S lives.</summary>
public sealed class KvmSection : IReportSection
{
    public string Title => "KVM guest state (QEMU-like start, KVM 6.18 upstream)";
    public string JsonKey => "kvm";

    public bool AppliesTo(ReportContext ctx) => ctx.Cpu.HasXsave;

    private static IReadOnlyList<(string Variant, KvmReport Report)> Compute(ReportContext ctx) =>
        ctx.ComparedKernels.Select(v => (v.Name, KvmReport.Create(BuiltinScripts.Get("qemu"), KvmSettings.For(ctx.Cpu, v), "qemu"))).ToArray();

    public IReadOnlyList<ReportBlock> Content(ReportContext ctx)
    {
        var t = new TextTable("kernel", "KVM_CAP_\nXSAVE2", "vCPU fpstate\nat creation", "host task\nfpstate", "difference", "PL0-2_SSP").AlignRight(1, 2, 3, 4);
        var runs = Compute(ctx);
        foreach (var (v, r) in runs)
        {
            var g = r.GuestFpstateAtCreate!;
            t.AddRow(v, Numbers.Int(r.Xsave2Size), $"{Numbers.Int(g.Size)} ({Json.Hex(g.Features)})", $"{Numbers.Int(r.HostFpstate.Size)} ({Json.Hex(r.HostFpstate.Features)})",
                (g.Size > r.HostFpstate.Size ? "+" : "") + Numbers.Int(g.Size - r.HostFpstate.Size), r.CetState.First(c => c.Msr == "IA32_PL0_SSP").Location);
        }
        return [new TableBlock(t), .. VariantEffectRendering.Blocks(Effect(ctx, runs), $"a QEMU-like start on {ctx.Cpu.Name}")];
    }

    /// <summary>For a kernel other than the landed one: what it changes in the QEMU-like start (both runs are in
    /// <paramref name="runs"/>, since the compared kernels include the landed one).</summary>
    private static VariantEffectOnCpu? Effect(ReportContext ctx, IReadOnlyList<(string Variant, KvmReport Report)> runs) =>
        ctx.Kernel.Name == KernelVariants.DefaultName ? null
        : VariantEffectOnCpu.From(ctx.Kernel, KvmReport.Observe(runs.First(r => r.Variant == ctx.Kernel.Name).Report,
            runs.First(r => r.Variant == KernelVariants.DefaultName).Report));

    public object ToJson(ReportContext ctx)
    {
        var runs = Compute(ctx);
        var effect = VariantEffectJson.From(Effect(ctx, runs));
        return runs.Select(p => new KvmVariantJson(
            p.Variant, p.Report.Xsave2Size, KvmRenderer.Fpstate(p.Report.GuestFpstateAtCreate)!, KvmRenderer.Fpstate(p.Report.HostFpstate)!,
            p.Report.CetState, p.Variant == ctx.Kernel.Name ? effect : null)).ToArray();
    }
}
