using System.Runtime.CompilerServices;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Cli.Rendering;
using XsaveLab.Sim.Experiment;

namespace XsaveLab.Cli.Commands.Report;

/// <summary>The CET-S experiment for the chosen CPU, priced with the shipped reference cost model and never
/// measured or calibrated (a report answers the same every time; live figures come from
/// <c>experiment cet-s --host --calibrate</c>). Computed once per report and shared by text, JSON and <c>--html</c>.</summary>
public sealed class ExperimentSection : IReportSection
{
    private static readonly ConditionalWeakTable<ReportContext, CetSResult> Results = new();

    private static CetSResult Compute(ReportContext rc, IProgress<(string Stage, double Fraction)>? progress) =>
        CetSRunner.Run(rc.Cpu, rc.Selection.IsHost, new CetSRunOptions(), progress);

    public string Title => "CET supervisor state experiment (context_switch1, cases 1-3)";
    public string JsonKey => "experiment";

    public bool AppliesTo(ReportContext ctx) => ctx.Cpu.HasXsave;

    /// <summary>The experiment for this report, computed on first use (with <paramref name="progress"/> if given).</summary>
    public static CetSResult Get(ReportContext ctx, IProgress<(string Stage, double Fraction)>? progress = null) =>
        Results.GetValue(ctx, k => Compute(k, progress));

    public void RenderText(ReportContext ctx, IAnsiConsole console) => ExperimentRendering.Render(Get(ctx), console, sweep: true);

    public object ToJson(ReportContext ctx) => Get(ctx);
}
