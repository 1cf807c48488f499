using XsaveLab.Arch.Cpuid;
using XsaveLab.Arch.Layout;
using XsaveLab.Arch.Sanity;
using XsaveLab.Cli.Cli;

namespace XsaveLab.Cli.Commands.Report;

/// <summary>What every report section can use: the chosen CPU, its full layout and its sanity findings,
/// computed once.</summary>
public sealed class ReportContext(CpuSelection selection)
{
    public CpuSelection Selection { get; } = selection;
    public CpuProfile Cpu => Selection.Profile;
    public LayoutView Layout { get; } = LayoutView.Create(selection.Profile);
    public IReadOnlyList<ProfileFinding> Findings { get; } = ProfileSanity.Check(selection.Profile);
}
