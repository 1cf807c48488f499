using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record ObservableJson(string Name, string Model, string Actual, string Status, string Reason);

public sealed record HostCheckJson(IReadOnlyList<ObservableJson> Observables);

/// <summary><c>host check</c>: every observable, model next to kernel. Exit 1 when any mismatches.</summary>
public sealed class HostCheckRenderer : IRenderer<HostCheckReport>
{
    public int ExitCode(HostCheckReport report) => report.HasMismatch ? 1 : 0;

    object IRenderer<HostCheckReport>.ToJson(HostCheckReport report) => ToJson(report);

    public static HostCheckJson ToJson(HostCheckReport report) =>
        new([.. report.Observables.Select(o => new ObservableJson(o.Name, o.Model, o.Actual, StatusName(o.Status), o.Reason))]);

    public static string StatusName(ObservableStatus s) => s.ToString().ToLowerInvariant();

    public void RenderText(IAnsiConsole console, HostCheckReport report)
    {
        var t = new TextTable("observable", "model", "kernel", "status");
        foreach (var o in report.Observables)
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
        console.WriteLine($"{report.Count(ObservableStatus.Match)} match, {report.Count(ObservableStatus.Mismatch)} mismatch, " +
            $"{report.Count(ObservableStatus.Explained)} explained, {report.Count(ObservableStatus.Skipped)} skipped");
    }
}
