using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record ObservableJson(string Name, string Model, string Actual, string Status, string Reason);

/// <summary>How many observables of the whole run have each status (whatever <c>--only</c> shows).</summary>
public sealed record HostCheckCountsJson(int Total, int Match, int Mismatch, int Explained, int Skipped);

/// <summary><c>host check</c> in JSON: the counts of the whole run, the statuses <c>--only</c> kept (empty: all) and
/// the observables shown.</summary>
public sealed record HostCheckJson(HostCheckCountsJson Counts, IReadOnlyList<string> Only, IReadOnlyList<ObservableJson> Observables);

/// <summary>A <c>host check</c> run and the statuses to show (empty: every observable).</summary>
public sealed record HostCheckView(HostCheckReport Report, IReadOnlyList<ObservableStatus> Only)
{
    public IReadOnlyList<Observable> Shown => Report.Only(Only);
}

/// <summary><c>host check</c>: the counts first, then every observable shown, model next to kernel. Exit 1 when any
/// observable of the run mismatches, shown or not.</summary>
public sealed class HostCheckRenderer : IRenderer<HostCheckView>
{
    public int ExitCode(HostCheckView view) => view.Report.HasMismatch ? 1 : 0;

    object IRenderer<HostCheckView>.ToJson(HostCheckView view) => ToJson(view);

    public static HostCheckJson ToJson(HostCheckView view) =>
        new(Counts(view.Report), [.. view.Only.Select(StatusName)],
            [.. view.Shown.Select(o => new ObservableJson(o.Name, o.Model, o.Actual, StatusName(o.Status), o.Reason))]);

    public static HostCheckCountsJson Counts(HostCheckReport r) =>
        new(r.Observables.Count, r.Count(ObservableStatus.Match), r.Count(ObservableStatus.Mismatch),
            r.Count(ObservableStatus.Explained), r.Count(ObservableStatus.Skipped));

    public static string StatusName(ObservableStatus s) => s.ToString().ToLowerInvariant();

    /// <summary>Every status by its name, in declaration order: the values <c>--only</c> accepts.</summary>
    public static IReadOnlyList<string> StatusNames { get; } = [.. Enum.GetValues<ObservableStatus>().Select(StatusName)];

    /// <summary>The one-line summary printed before the table: the counts of the whole run, and what is shown.</summary>
    public static string Summary(HostCheckView view)
    {
        var r = view.Report;
        string counts = string.Join(", ", Enum.GetValues<ObservableStatus>().Select(s => $"{Numbers.Int(r.Count(s))} {StatusName(s)}"));
        string line = $"{Numbers.Int(r.Observables.Count)} observables: {counts}";
        if (view.Only.Count > 0)
            line += $"; showing {Numbers.Int(view.Shown.Count)} ({string.Join(", ", view.Only.Select(StatusName))})";
        return line;
    }

    public void RenderText(IAnsiConsole console, HostCheckView view)
    {
        console.WriteLine(Summary(view));
        var shown = view.Shown;
        if (shown.Count == 0)
            return;
        console.WriteLine();
        var t = new TextTable("observable", "model", "kernel", "status");
        foreach (var o in shown)
        {
            var colour = o.Status switch
            {
                ObservableStatus.Match => Color.Green,
                ObservableStatus.Mismatch => Color.Red,
                ObservableStatus.Explained => Color.Yellow,
                _ => Color.Grey,
            };
            string status = StatusName(o.Status);
            if (o.Status is ObservableStatus.Mismatch or ObservableStatus.Explained or ObservableStatus.Skipped && o.Reason.Length > 0)
                status += "\n" + o.Reason;
            t.AddRow(o.Name, o.Model, o.Actual, new Cell(status, colour));
        }
        t.Write(console);
    }
}
