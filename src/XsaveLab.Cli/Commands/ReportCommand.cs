namespace XsaveLab.Cli.Commands;

/// <summary><c>report</c>: everything known about one CPU, one section after another
/// (<see cref="ReportSections.All"/>).</summary>
public static class ReportCommand
{
    public static Command Create(CliContext ctx)
    {
        var cpu = new CpuSourceOptions();
        var format = FormatOption.Create();
        var kernel = KernelOption.Create("Kernel variant booted for the kernel and user-ABI sections (all variants are still compared)");
        var cmd = new Command("report", "Everything about one CPU: profile, XSAVE layout, sanity findings, Linux FPU core, user ABI, KVM guest state and the CET-S experiment (default CPU: this machine, else 'spr')");
        var html = new Option<string>("--html") { Description = "Also write the CET-S experiment as one self-contained HTML page to FILE", HelpName = "FILE" };
        cpu.AddTo(cmd);
        cmd.Add(kernel);
        cmd.Add(format);
        cmd.Add(html);
        cmd.SetAction(parse =>
        {
            var variant = KernelOption.Get(parse, kernel);
            string? htmlPath = parse.GetValue(html);
            OutputFile.Check("--html", htmlPath);
            var rc = new ReportContext(cpu.Resolve(parse), variant);
            bool htmlWritten = RunExperiment(ctx, rc, htmlPath);
            int code = ctx.Render(FormatOption.Get(parse, format), rc, new ReportRenderer(htmlWritten ? htmlPath : null));
            return rc.Unavailable.Count == 0 ? code : ctx.Fail(Unavailable(rc, htmlPath is not null && !htmlWritten));
        });
        return cmd;
    }

    /// <summary>The experiment calibrates and measures: it runs up front, under a progress bar on a terminal, and
    /// writes the HTML page if asked; the sections then show the stored result.</summary>
    /// <returns>True when the HTML page was written. A CPU the simulator cannot model is not an error here: the
    /// section says why and the rest of the report still prints.</returns>
    private static bool RunExperiment(CliContext ctx, ReportContext rc, string? htmlPath)
    {
        if (ReportSections.For(rc).OfType<ExperimentSection>().Any())
        {
            CetSResult result;
            try
            {
                result = Sim.SimProgress.Run(ctx, "experiment", rc.Experiment);
            }
            catch (CpuProfileFormatException)
            {
                return false;
            }
            if (htmlPath is not null)
                ExperimentCommand.WriteHtml(result, htmlPath);
            return htmlPath is not null;
        }
        if (htmlPath is not null)
            throw new UserErrorException($"--html: {rc.Cpu.Name} has no XSAVE, there is no experiment to write");
        return false;
    }

    /// <summary>The one error line of a report some of whose sections could not run: the first refusal and the
    /// sections it left out.</summary>
    private static string Unavailable(ReportContext rc, bool htmlSkipped) =>
        $"{rc.Unavailable.Values.First().Message}; report sections not computed: {string.Join(", ", rc.Unavailable.Keys)}"
        + (htmlSkipped ? "; --html not written" : "");
}
