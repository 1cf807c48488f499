using Spectre.Console;
namespace XsaveLab.Cli.Commands.Report;

public sealed record KvmVariantJson(
    string Kernel, int Xsave2Size, FpstateJson GuestFpstateAtCreate, FpstateJson HostFpstate, IReadOnlyList<CetStateLocation> CetState);

/// <summary>The KVM view: a QEMU-like start on upstream KVM 6.18 for every kernel variant — XSAVE2 size, the guest
/// fpstate at vCPU creation next to the host task's, whether CET is offered, where CET-S lives.</summary>
public sealed class KvmSection : IReportSection
{
    public string Title => "KVM guest state (QEMU-like start, KVM 6.18 upstream)";
    public string JsonKey => "kvm";

    public bool AppliesTo(ReportContext ctx) => ctx.Cpu.HasXsave;

    private static IReadOnlyList<(string Variant, KvmReport Report)> Compute(ReportContext ctx) =>
        ctx.ComparedKernels.Select(v => (v.Name, KvmReport.Create(BuiltinScripts.Get("qemu"), KvmSettings.For(ctx.Cpu, v), "qemu"))).ToArray();

    public void RenderText(ReportContext ctx, IAnsiConsole console)
    {
        var t = new Table().AddColumns("kernel", "KVM_CAP_XSAVE2", "vCPU fpstate at creation", "host task fpstate", "difference", "PL0-2_SSP");
        foreach (int i in new[] { 1, 2, 3, 4 })
            t.Columns[i].RightAligned();
        foreach (var (v, r) in Compute(ctx))
        {
            var g = r.GuestFpstateAtCreate!;
            t.AddRow(v, $"{r.Xsave2Size}", Markup.Escape($"{g.Size} ({Json.Hex(g.Features)})"), Markup.Escape($"{r.HostFpstate.Size} ({Json.Hex(r.HostFpstate.Features)})"),
                $"{g.Size - r.HostFpstate.Size:+#;-#;0}", Markup.Escape(r.CetState.First(c => c.Msr == "IA32_PL0_SSP").Location));
        }
        console.Write(t);
    }

    public object ToJson(ReportContext ctx) => Compute(ctx).Select(p => new KvmVariantJson(
        p.Variant, p.Report.Xsave2Size, KvmRenderer.Fpstate(p.Report.GuestFpstateAtCreate)!, KvmRenderer.Fpstate(p.Report.HostFpstate)!,
        p.Report.CetState)).ToArray();
}
