namespace XsaveLab.Cli.Commands.Report;

/// <summary>The boot-time sanity checks of the CPU's leaf 0xD (<see cref="ProfileSanity"/>).</summary>
public sealed class SanitySection : IReportSection
{
    public string Title => "Sanity checks of CPUID leaf 0xd";
    public string JsonKey => "findings";

    public IReadOnlyList<ReportBlock> Content(ReportContext ctx)
    {
        if (ctx.Findings.Count == 0)
            return [new TextBlock("no findings: every rule holds and the CPU's own sizes agree with the computed ones")];
        var t = new TextTable("severity", "code", "finding");
        foreach (var f in ctx.Findings)
            t.AddRow(f.Severity.Name(), f.Code, f.Message);
        return [new TableBlock(t)];
    }

    public object ToJson(ReportContext ctx) => ctx.Findings;
}
