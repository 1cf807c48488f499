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
        var html = new Option<string>("--html") { Description = "Also write the whole report as one self-contained HTML page to FILE (byte maps, charts, every section)", HelpName = "FILE" };
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
            RunExperiment(ctx, rc);
            bool htmlWritten = WriteHtml(rc, htmlPath);
            int code = ctx.Render(FormatOption.Get(parse, format), rc, new ReportRenderer(htmlWritten ? htmlPath : null));
            return rc.Unavailable.Count == 0 ? code : ctx.Fail(Unavailable(rc, htmlPath is not null && !htmlWritten));
        });
        return cmd;
    }

    /// <summary>The experiment is the slow part: it runs up front, under a progress bar on a terminal; the sections
    /// then show the stored result. A CPU the simulator cannot model is not an error here: the section says why and
    /// the rest of the report still prints.</summary>
    private static void RunExperiment(CliContext ctx, ReportContext rc)
    {
        if (!ReportSections.For(rc).OfType<ExperimentSection>().Any())
            return;
        try
        {
            Sim.SimProgress.Run(ctx, "experiment", rc.Experiment);
        }
        catch (CpuProfileFormatException)
        {
            // ExperimentSection reports it through SectionUnavailable.
        }
    }

    /// <summary>Writes the page (<see cref="ReportHtml"/>) through <see cref="OutputFile"/> unless a section could not
    /// run: the command then fails, and a failed command leaves no file behind.</summary>
    /// <returns>True when the page was written.</returns>
    private static bool WriteHtml(ReportContext rc, string? path)
    {
        if (path is null)
            return false;
        string page = ReportHtml.Render(rc);
        if (rc.Unavailable.Count > 0)
            return false;
        OutputFile.WriteText("--html", path, page);
        return true;
    }

    /// <summary>The one error line of a report some of whose sections could not run: the first refusal and the
    /// sections it left out.</summary>
    private static string Unavailable(ReportContext rc, bool htmlSkipped) =>
        $"{rc.Unavailable.Values.First().Message}; report sections not computed: {string.Join(", ", rc.Unavailable.Keys)}"
        + (htmlSkipped ? "; --html not written" : "");
}
