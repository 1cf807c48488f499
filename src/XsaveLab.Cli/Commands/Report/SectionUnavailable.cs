namespace XsaveLab.Cli.Commands.Report;

/// <summary>A report section the model refuses to compute for this CPU (the kernel model needs FXSR, the
/// simulator a buffer that holds the legacy area and XSAVE header…): the section says why in place of its content,
/// and the sections that can answer still do.</summary>
public sealed record SectionUnavailable(string Unavailable)
{
    /// <summary>The section's value, or why it cannot run. Only a refusal of the CPU
    /// (<see cref="CpuProfileFormatException"/>) is caught: anything else is a defect and stays one.</summary>
    public static object? Try(ReportContext rc, IReportSection section, Func<object?> compute)
    {
        try
        {
            return compute();
        }
        catch (CpuProfileFormatException e)
        {
            rc.MarkUnavailable(section.JsonKey, e);
            return new SectionUnavailable(e.Problem);
        }
    }
}
