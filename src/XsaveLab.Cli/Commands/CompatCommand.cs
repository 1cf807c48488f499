using XsaveLab.Kvm.Migration;
namespace XsaveLab.Cli.Commands;

/// <summary><c>compat A B</c>: whether XSAVE state can move from host A to host B (raw KVM snapshot, named registers,
/// process checkpoint); <c>compat --common A B C …</c>: the guest CPUID template every host runs with identical
/// layouts.</summary>
public static class CompatCommand
{
    public static Command Create(CliContext ctx)
    {
        var cpus = new Argument<string[]>("CPU")
        {
            Description = "A built-in CPU name, a CPUID dump file, or 'host'; two without --common (from, to)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var common = new Option<bool>("--common")
        {
            Description = "The largest guest feature set all the CPUs run with identical layouts (default: every built-in CPU with XSAVE), as CPUID and as a VMM script line",
        };
        var hide = CpuSourceOptions.NewHideOption("Hide CPUID features on every CPU compared, with their dependents and XSAVE components (kernel names, comma-separated, e.g. avx512f,pku)");
        var kernel = KernelOption.Create("Host kernel variant");
        var format = FormatOption.Create();
        var cmd = new Command("compat", "Can XSAVE state move between two hosts (KVM snapshot, named registers, process); or a common guest template");
        cmd.Add(cpus);
        cmd.Add(common);
        cmd.Add(hide);
        cmd.Add(kernel);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var variant = KernelOption.Get(parse, kernel);
            var words = parse.GetValue(cpus) ?? [];
            var fmt = FormatOption.Get(parse, format);
            var hidden = CpuSourceOptions.HideNames(parse.GetValue(hide));
            if (parse.GetValue(common))
                return ctx.Render(fmt, GuestTemplates.Common(Pool(words, hidden), variant), new CompatTemplateRenderer());
            if (words.Length != 2)
                throw new UserErrorException($"compat needs two CPUs (from, to), got {words.Length}; or --common with any number");
            var from = Checked(Hidden(CpuSourceOptions.ResolveWord(words[0], "from").Profile, hidden), "from");
            var to = Checked(Hidden(CpuSourceOptions.ResolveWord(words[1], "to").Profile, hidden), "to");
            return ctx.Render(fmt, MigrationCheck.Check(from, to, variant), new CompatRenderer());
        });
        return cmd;
    }

    /// <summary>The hosts of <c>--common</c>: the words given, or every built-in CPU with XSAVE; each with the
    /// <c>--hide</c> features hidden.</summary>
    private static CpuProfile[] Pool(string[] words, string[]? hidden) => words.Length == 0
        ? [.. CpuCatalog.All.Where(p => p.HasXsave).Select(p => Hidden(p, hidden)).Where(p => p.HasXsave)]
        : [.. words.Select((w, i) => Checked(Hidden(CpuSourceOptions.ResolveWord(w, $"CPU {i + 1}").Profile, hidden), $"CPU {i + 1}"))];

    /// <summary><paramref name="cpu"/> as <c>--hide</c> presents it (<see cref="CpuidMasking.Hide"/>), unchanged without it.</summary>
    private static CpuProfile Hidden(CpuProfile cpu, string[]? names) => names is null ? cpu : CpuidMasking.Hide(cpu, names);

    /// <summary>A CPU without XSAVE has no state to move; one the KVM model cannot size is refused.</summary>
    private static CpuProfile Checked(CpuProfile cpu, string what)
    {
        if (!cpu.HasXsave)
            throw new UserErrorException($"{what}: {cpu.Name} has no XSAVE (CPUID.1:ECX[26] or leaf 0xd missing): there is no XSAVE state to move");
        if (KvmLimits.Problem(cpu) is { } why)
            throw new UserErrorException($"{what}: {why}");
        return cpu;
    }
}
