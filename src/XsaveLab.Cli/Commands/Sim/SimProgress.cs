using Spectre.Console;
namespace XsaveLab.Cli.Commands.Sim;

/// <summary>Long runs (calibration, measurement, sweeps, big simulations) show a Spectre progress bar when
/// stdout is a terminal and stay silent when it is redirected.</summary>
internal static class SimProgress
{
    public static bool IsTerminal(CliContext ctx) => ReferenceEquals(ctx.Out, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>Runs <paramref name="work"/> with stage-labelled progress.</summary>
    public static T Run<T>(CliContext ctx, string title, Func<IProgress<(string Stage, double Fraction)>?, T> work)
    {
        if (!IsTerminal(ctx))
            return work(null);
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(p =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var gate = new object();
                var reporter = new Reporter(v =>
                {
                    lock (gate)
                    {
                        if (!tasks.TryGetValue(v.Stage, out var t))
                            tasks[v.Stage] = t = p.AddTask(Markup.Escape(v.Stage), maxValue: 1.0);
                        t.Value = Math.Clamp(v.Fraction, 0, 1);
                    }
                });
                _ = title;
                result = work(reporter);
            });
        return result;
    }

    /// <summary>A single-stage variant.</summary>
    public static T RunStage<T>(CliContext ctx, string stage, Func<IProgress<double>?, T> work) =>
        Run(ctx, stage, p => work(p is null ? null : new Single(f => p.Report((stage, f)))));

    private sealed class Reporter(Action<(string Stage, double Fraction)> a) : IProgress<(string Stage, double Fraction)>
    {
        public void Report((string Stage, double Fraction) value) => a(value);
    }

    private sealed class Single(Action<double> a) : IProgress<double>
    {
        public void Report(double value) => a(value);
    }
}
