namespace XsaveLab.Cli.Commands.Report;

/// <summary>One part of <c>report</c>. Sections are listed in <see cref="ReportSections.All"/>; to add one
/// (kernel, KVM, experiments…), implement this interface in its own file and append it there.</summary>
public interface IReportSection
{
    /// <summary>Heading in text output.</summary>
    string Title { get; }

    /// <summary>Key of this section's object in JSON output.</summary>
    string JsonKey { get; }

    /// <summary>False to leave the section out for this CPU (e.g. a KVM section when the CPU has no XSAVE).</summary>
    bool AppliesTo(ReportContext ctx) => true;

    /// <summary>What the section shows, stated once: the text report and the HTML page both draw these blocks.</summary>
    IReadOnlyList<ReportBlock> Content(ReportContext ctx);

    /// <summary>A JSON-serialisable value (record, list, …).</summary>
    object ToJson(ReportContext ctx);
}
