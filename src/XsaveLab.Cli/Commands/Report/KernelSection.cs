using Spectre.Console;
namespace XsaveLab.Cli.Commands.Report;

public sealed record KernelJson(BootJson Boot, IReadOnlyList<VariantCost> Variants);

/// <summary>The Linux FPU core's view: boot of the chosen kernel variant (default 6.17) and every variant side by
/// side (bytes per task, per vCPU, per save), measured on the model.</summary>
public sealed class KernelSection : IReportSection
{
    public string Title => "Linux FPU core (kernel variants compared)";
    public string JsonKey => "kernel";

    private static (BootReport Boot, VariantComparison Cmp) Compute(ReportContext ctx) =>
        (BootReport.From(FpuSystem.Boot(ctx.Cpu, ctx.Kernel)), VariantComparison.Measure(ctx.Cpu, ctx.ComparedKernels));

    public void RenderText(ReportContext ctx, IAnsiConsole console)
    {
        var (boot, cmp) = Compute(ctx);
        console.WriteLine($"kernel {ctx.Kernel.Name}: per-task fpstate {boot.HostDefaultSize} bytes, new vCPU fpstate {boot.GuestFpstateSize} bytes, " +
                          $"context size {boot.KernelCfg.MaxSize}, XCR0 {Json.Hex(boot.Xcr0)}, IA32_XSS {Json.Hex(boot.Xss)}, save with {boot.SaveInstruction}");
        var t = new Table().AddColumns("kernel", "bytes/task", "bytes/vCPU", "vCPU with CET", "XSS[[12]]", "host RFBM[[12]]", "bytes/host save", "bytes/guest save");
        foreach (int i in new[] { 1, 2, 3, 6, 7 })
            t.Columns[i].RightAligned();
        t.Columns[4].Centered();
        t.Columns[5].Centered();
        foreach (var r in cmp.Rows)
            t.AddRow(r.Variant, $"{r.TaskBytes}", $"{r.VcpuBytes}", $"{r.VcpuBytesWithCet}", r.XssCetKernel ? "1" : "0",
                r.HostRfbmCetKernel ? "1" : "0", $"{r.HostSaveBytes:0.#}", $"{r.GuestSaveBytes:0.#}");
        console.Write(t);
    }

    public object ToJson(ReportContext ctx)
    {
        var (boot, cmp) = Compute(ctx);
        return new KernelJson(BootRenderer.ToBootJson(boot), cmp.Rows);
    }
}
