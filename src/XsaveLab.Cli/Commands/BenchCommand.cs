namespace XsaveLab.Cli.Commands;

/// <summary><c>bench</c>: how fast the instruction model is next to a plain copy of the same bytes and next to
/// the processor's own instructions, on the host's full user state (<see cref="XsaveBench"/>). The thorough
/// measurement is the BenchmarkDotNet project bench/XsaveLab.Benchmarks; this one finishes in seconds.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext ctx)
    {
        var format = FormatOption.Create();
        var cmd = new Command("bench", "Time the model's XSAVEC/XSAVES/XSAVEOPT pairs against a memory copy and the native instructions");
        cmd.Add(format);
        cmd.Add(BenchSimCommand.Create(ctx));
        cmd.Add(BenchExploreCommand.Create(ctx));
        cmd.SetAction(parse => ctx.Render(FormatOption.Get(parse, format), Run(), new BenchRenderer()));
        return cmd;
    }

    /// <summary>The benchmark; <see cref="NotAvailableException"/> (exit 1: the benchmarked thing is missing, the
    /// input was fine) when this machine cannot run it.</summary>
    private static BenchReport Run()
    {
        try
        {
            using var bench = new XsaveBench();
            return bench.Run();
        }
        catch (InvalidOperationException e)
        {
            throw new NotAvailableException(e.Message);
        }
    }
}
