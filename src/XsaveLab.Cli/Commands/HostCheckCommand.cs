using System.CommandLine;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Host.Check;

namespace XsaveLab.Cli.Commands;

public sealed record ObservableJson(string Name, string Model, string Actual, string Status, string Reason);

public sealed record HostCheckJson(IReadOnlyList<ObservableJson> Observables);

/// <summary><c>host check</c>: the model booted with this machine's CPUID against the running kernel.
/// Exit 1 when any observable mismatches.</summary>
public static class HostCheckCommand
{
    public static Command Create(CliContext ctx)
    {
        var host = new Command("host", "Compare the model with this machine");
        var check = new Command("check", "Boot the model with this machine's CPUID and compare every observable with the live kernel (boot log, arch_prctl, AT_MINSIGSTKSZ, ptrace regsets, core-dump notes)");
        var format = FormatOption.Create();
        var cases = new Option<int>("--cases")
        {
            Description = "Seeded SETREGSET images written by the model and read back from the kernel",
            DefaultValueFactory = _ => 200,
        };
        check.Add(format);
        check.Add(cases);
        check.SetAction(parse =>
        {
            int n = parse.GetValue(cases);
            if (n < 0)
                throw new UserErrorException($"--cases must be 0 or more, not {n}");
            var report = HostCheck.Run(new HostCheckOptions(SeededCases: n));
            if (FormatOption.Get(parse, format) == OutputFormat.Json)
                Json.Write(ctx.Out, ToJson(report));
            else
                Render(ctx, report);
            return report.HasMismatch ? 1 : 0;
        });
        host.Add(check);
        return host;
    }

    public static HostCheckJson ToJson(HostCheckReport report) =>
        new([.. report.Observables.Select(o => new ObservableJson(o.Name, o.Model, o.Actual, StatusName(o.Status), o.Reason))]);

    public static string StatusName(ObservableStatus s) => s.ToString().ToLowerInvariant();

    private static void Render(CliContext ctx, HostCheckReport report)
    {
        var console = ctx.CreateConsole();
        var t = new Table().Border(TableBorder.Rounded)
            .AddColumn("observable").AddColumn("model").AddColumn("kernel").AddColumn("status");
        foreach (var o in report.Observables)
        {
            string status = o.Status switch
            {
                ObservableStatus.Match => "[green]match[/]",
                ObservableStatus.Mismatch => "[red]mismatch[/]",
                ObservableStatus.Explained => "[yellow]explained[/]",
                _ => "[grey]skipped[/]",
            };
            if (o.Status is ObservableStatus.Mismatch or ObservableStatus.Explained or ObservableStatus.Skipped && o.Reason.Length > 0)
                status += "\n" + Markup.Escape(o.Reason);
            t.AddRow(Markup.Escape(o.Name), Markup.Escape(o.Model), Markup.Escape(o.Actual), status);
        }
        console.Write(t);
        console.WriteLine($"{report.Count(ObservableStatus.Match)} match, {report.Count(ObservableStatus.Mismatch)} mismatch, " +
            $"{report.Count(ObservableStatus.Explained)} explained, {report.Count(ObservableStatus.Skipped)} skipped");
    }
}
