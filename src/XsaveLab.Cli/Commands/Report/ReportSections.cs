namespace XsaveLab.Cli.Commands.Report;

/// <summary>The sections of <c>report</c>, in output order. Append new sections here.</summary>
public static class ReportSections
{
    public static readonly IReadOnlyList<IReportSection> All =
    [
        new ProfileSection(),
        new LayoutSection(),
        new SanitySection(),
        new KernelSection(),
        new UserAbiSection(),
        new KvmSection(),
        new ExperimentSection(),
    ];

    /// <summary>The sections that apply to <paramref name="rc"/>'s CPU, in output order.</summary>
    public static IReadOnlyList<IReportSection> For(ReportContext rc) => [.. All.Where(s => s.AppliesTo(rc))];
}
