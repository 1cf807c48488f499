namespace XsaveLab.Cli.Commands.Report;

public sealed record KernelJson(BootJson Boot, IReadOnlyList<VariantCost> Variants);

/// <summary>The Linux FPU core's view: boot of the chosen kernel variant (default 6.17) and every variant side by
/// side (bytes per task, per vCPU, per save), measured on the model.</summary>
public sealed class KernelSection : IReportSection
{
    public string Title => "Linux FPU core (kernel variants compared)";
    public string JsonKey => "kernel";

    private static (BootReport Boot, VariantComparison Cmp) Compute(ReportContext ctx) =>
        (BootReport.Create(ctx.Cpu, ctx.Kernel), VariantComparison.Measure(ctx.Cpu, ctx.ComparedKernels));

    public IReadOnlyList<ReportBlock> Content(ReportContext ctx)
    {
        var (boot, cmp) = Compute(ctx);
        var line = new TextBlock($"kernel {ctx.Kernel.Name}: per-task fpstate {Numbers.Bytes(boot.HostDefaultSize)}, new vCPU fpstate {Numbers.Bytes(boot.GuestFpstateSize)}, " +
                          $"context size {Numbers.Bytes(boot.KernelCfg.MaxSize)}, XCR0 {Json.Hex(boot.Xcr0)}, IA32_XSS {Json.Hex(boot.Xss)}, save with {boot.SaveInstruction}");
        var t = new TextTable("kernel", "bytes/\ntask", "bytes/\nvCPU", "vCPU with\nCET", "XSS[12]", "host\nRFBM[12]", "bytes/\nhost save", "bytes/\nguest save")
            .AlignRight(1, 2, 3, 6, 7);
        foreach (var r in cmp.Rows)
            t.AddRow(r.Variant, Numbers.Int(r.TaskBytes), Numbers.Int(r.VcpuBytes), Numbers.Int(r.VcpuBytesWithCet), r.XssCetKernel ? "1" : "0",
                r.HostRfbmCetKernel ? "1" : "0", Numbers.Real(r.HostSaveBytes, 1), Numbers.Real(r.GuestSaveBytes, 1));
        return [line, new TableBlock(t), .. VariantEffectRendering.Blocks(boot.Effect, $"this boot of {ctx.Cpu.Name}")];
    }

    public object ToJson(ReportContext ctx)
    {
        var (boot, cmp) = Compute(ctx);
        return new KernelJson(BootRenderer.ToBootJson(boot), cmp.Rows);
    }
}
