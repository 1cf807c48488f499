namespace XsaveLab.Cli.Commands;

/// <summary><c>cpus</c>: the built-in catalog.</summary>
public static class CpusCommand
{
    public static Command Create(CliContext ctx)
    {
        var format = FormatOption.Create();
        var cmd = new Command("cpus", "The built-in CPUs (profiles derived from real CPUID dumps); use a name with --cpu");
        cmd.Add(format);
        cmd.SetAction(parse => ctx.Render(FormatOption.Get(parse, format), CpuCatalog.Entries, new CpusRenderer()));
        return cmd;
    }
}
