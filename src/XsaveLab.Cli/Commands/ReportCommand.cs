using System.CommandLine;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Cli.Commands.Report;

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
            var rc = new ReportContext(cpu.Resolve(parse), variant);
            var sections = ReportSections.All.Where(s => s.AppliesTo(rc)).ToList();
            if (sections.OfType<ExperimentSection>().Any())
            {
                // The experiment calibrates and measures: run it up front, under a progress bar on a terminal.
                var result = Sim.SimProgress.Run(ctx, "experiment", p =>
                    ExperimentSection.Get(rc, p));
                if (parse.GetValue(html) is { } path)
                    ExperimentCommand.WriteHtml(result, path);
            }
            else if (parse.GetValue(html) is not null)
                throw new UserErrorException($"--html: {rc.Cpu.Name} has no XSAVE, there is no experiment to write");
            if (FormatOption.Get(parse, format) == OutputFormat.Json)
            {
                var doc = new Dictionary<string, object?>
                {
                    ["cpu"] = rc.Cpu.Name,
                    ["origin"] = rc.Selection.Origin,
                    ["kernelVariant"] = rc.Kernel.Name,
                };
                foreach (var s in sections)
                    doc[s.JsonKey] = s.ToJson(rc);
                Json.Write(ctx.Out, doc);
                return 0;
            }
            var console = ctx.CreateConsole();
            foreach (var s in sections)
            {
                console.Write(new Rule(Markup.Escape(s.Title)).LeftJustified());
                s.RenderText(rc, console);
                console.WriteLine();
            }
            if (parse.GetValue(html) is { } written)
                console.WriteLine($"HTML report written to {written}");
            return 0;
        });
        return cmd;
    }
}
