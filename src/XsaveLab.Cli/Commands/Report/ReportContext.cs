namespace XsaveLab.Cli.Commands.Report;

/// <summary>What every report section can use: the chosen CPU and kernel variant, the CPU's full layout and
/// its sanity findings, computed once.</summary>
public sealed class ReportContext(CpuSelection selection, KernelVariant? kernel = null)
{
    public CpuSelection Selection { get; } = selection;

    /// <summary>The kernel variant the kernel and user-ABI sections boot (default 6.17).</summary>
    public KernelVariant Kernel { get; } = kernel ?? KernelVariants.Default;

    /// <summary>The variants compared side by side: the main ones, plus <see cref="Kernel"/> if it is not among them.</summary>
    public IReadOnlyList<KernelVariant> ComparedKernels =>
        KernelVariants.Main.Contains(Kernel) ? KernelVariants.Main : [.. KernelVariants.Main, Kernel];

    public CpuProfile Cpu => Selection.Profile;
    public LayoutView Layout { get; } = LayoutView.Create(selection.Profile);
    public IReadOnlyList<ProfileFinding> Findings { get; } = ProfileSanity.Check(selection.Profile);

    private CetSResult? _experiment;

    /// <summary>The CET-S experiment for this CPU, priced with the shipped reference cost model and never measured or
    /// calibrated (a report answers the same every time); computed on first use (with <paramref name="progress"/> if
    /// given) and shared by text, JSON and <c>--html</c>.</summary>
    public CetSResult Experiment(IProgress<(string Stage, double Fraction)>? progress = null) =>
        _experiment ??= CetSRunner.Run(Cpu, Selection.IsHost, new CetSRunOptions(), progress);

    private readonly Dictionary<IReportSection, object?> _content = [];

    /// <summary>The section's blocks (<see cref="IReportSection.Content"/>), or the <see cref="SectionUnavailable"/>
    /// saying why it cannot run here; computed once and shared by the text report and the HTML page.</summary>
    public object? ContentOf(IReportSection section)
    {
        if (!_content.TryGetValue(section, out var c))
            _content[section] = c = SectionUnavailable.Try(this, section, () => section.Content(this));
        return c;
    }

    private readonly Dictionary<string, CpuProfileFormatException> _unavailable = [];

    /// <summary>The sections (by JSON key) that could not run on this CPU, with the model's refusal.</summary>
    public IReadOnlyDictionary<string, CpuProfileFormatException> Unavailable => _unavailable;

    internal void MarkUnavailable(string section, CpuProfileFormatException why) => _unavailable.TryAdd(section, why);
}
