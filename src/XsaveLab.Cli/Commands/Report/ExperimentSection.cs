namespace XsaveLab.Cli.Commands.Report;

/// <summary>The CET-S experiment for the chosen CPU (<see cref="ReportContext.Experiment"/>): the shipped reference
/// cost model, nothing measured or calibrated; live figures come from <c>experiment cet-s --host --calibrate</c>.</summary>
public sealed class ExperimentSection : IReportSection
{
    public string Title => "CET supervisor state experiment (context_switch1, cases 1-3)";
    public string JsonKey => "experiment";

    public bool AppliesTo(ReportContext ctx) => ctx.Cpu.HasXsave;

    public IReadOnlyList<ReportBlock> Content(ReportContext ctx) => [new ExperimentBlock(ctx.Experiment())];

    public object ToJson(ReportContext ctx) => ctx.Experiment();
}
