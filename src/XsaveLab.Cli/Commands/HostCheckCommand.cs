namespace XsaveLab.Cli.Commands;

/// <summary><c>host check</c>: the model booted with this machine's CPUID against the running kernel.
/// Exit 1 when any observable mismatches.</summary>
public static class HostCheckCommand
{
    /// <summary>At least one seeded image: with none, the coverage observable has nothing to compare.</summary>
    public const int MinCases = 1;

    /// <summary>Each case is a ptrace round trip with a child; 100000 take minutes, more is not a check.</summary>
    public const int MaxCases = 100_000;

    public static Command Create(CliContext ctx)
    {
        var host = new Command("host", "Compare the model with this machine");
        var check = new Command("check", "Boot the model with this machine's CPUID and compare every observable with the live kernel (boot log, arch_prctl, AT_MINSIGSTKSZ, ptrace regsets, core-dump notes)");
        var format = FormatOption.Create();
        var cases = IntOption.Create("--cases", "Seeded SETREGSET images written by the model and read back from the kernel",
            200, MinCases, MaxCases);
        var only = new Option<string[]>("--only")
        {
            Description = "Show only the observables with this status (repeat the option for several); the counts always cover the whole run",
            AllowMultipleArgumentsPerToken = false,
        }.OneOf(HostCheckRenderer.StatusNames);
        check.Add(format);
        check.Add(cases);
        check.Add(only);
        check.SetAction(parse =>
        {
            var statuses = (parse.GetValue(only) ?? []).Distinct()
                .Select(n => Enum.GetValues<ObservableStatus>().First(s => HostCheckRenderer.StatusName(s) == n)).ToList();
            var report = HostCheck.Run(new HostCheckOptions(SeededCases: parse.GetValue(cases)));
            return ctx.Render(FormatOption.Get(parse, format), new HostCheckView(report, statuses), new HostCheckRenderer());
        });
        host.Add(check);
        return host;
    }
}
