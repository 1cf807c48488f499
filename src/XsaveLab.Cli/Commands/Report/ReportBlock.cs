namespace XsaveLab.Cli.Commands.Report;

/// <summary>One piece of a report section's content (<see cref="IReportSection.Content"/>). A section states its
/// content once, as blocks; the text report (<see cref="ReportBlocks.WriteText"/>) and the HTML page
/// (<see cref="ReportHtml"/>) both draw from them, so the two cannot disagree.</summary>
public abstract record ReportBlock;

/// <summary>A line of prose. <paramref name="Wrap"/>: wrapped at word boundaries to the terminal's width, continuation
/// lines keeping the line's indentation (<see cref="RawLineExtensions.WriteWrapped"/>).</summary>
public sealed record TextBlock(string Text, bool Wrap = false) : ReportBlock;

/// <summary><c>key value</c> lines; an empty key continues the line above.</summary>
public sealed record KeyValueBlock(IReadOnlyList<(string Key, string Value)> Rows) : ReportBlock;

/// <summary>A table: a grid (or key: value lines when too narrow) in text, an HTML table on the page.</summary>
public sealed record TableBlock(TextTable Table) : ReportBlock;

/// <summary>An XSAVE buffer drawn to scale (<see cref="ByteMap"/>). Only the page draws it: in text the same
/// offsets and sizes are the layout table beside it.</summary>
public sealed record ByteMapBlock(string Label, FpstateMap Map, string Id) : ReportBlock;

/// <summary>The CET-S experiment: its text (<see cref="ExperimentRenderer.Render"/>) or its page body with charts
/// (<see cref="HtmlReport.Body"/>).</summary>
public sealed record ExperimentBlock(CetSResult Result) : ReportBlock;
