namespace XsaveLab.Cli.Cli;

/// <summary>The CPU a command works on and how it was chosen.</summary>
/// <param name="Profile">The CPU.</param>
/// <param name="Origin">One sentence for the output, e.g. "built-in CPU 'spr'" or why the host was not used.</param>
/// <param name="IsHost">The profile is the live CPU of this machine.</param>
public sealed record CpuSelection(CpuProfile Profile, string Origin, bool IsHost);

/// <summary>The shared <c>--cpu NAME | --cpuid FILE | --host</c> options (mutually exclusive). Without any of
/// them the host is used when it is Linux x86-64 with XSAVE, else <see cref="CpuCatalog.DefaultName"/>.
/// <c>--hide FEATURE[,FEATURE…]</c> then clears features of whichever CPU was chosen
/// (<see cref="CpuidMasking.Hide"/>).</summary>
public sealed class CpuSourceOptions
{
    public Option<string> Cpu { get; } = new("--cpu")
    {
        Description = "A built-in CPU by short name (see 'xsavelab cpus'), e.g. spr, zen4-genoa",
        HelpName = "NAME",
    };

    public Option<string> CpuidFile { get; } = new("--cpuid")
    {
        Description = "A CPUID dump: InstLatx64 text or 'cpuid -r' output (first CPU is used; a regular file of at most 4 MiB)",
        HelpName = "FILE",
    };

    public Option<bool> Host { get; } = new("--host")
    {
        Description = "The CPU of this machine, read live with CPUID (Linux x86-64 only)",
    };

    public Option<string> Hide { get; } = NewHideOption("Hide CPUID features of the chosen CPU, with the features and XSAVE components depending on them (kernel names, comma-separated, e.g. avx512f,pku)");

    /// <summary>A <c>--hide</c> option for commands that take their CPUs otherwise (<c>compat</c>).</summary>
    public static Option<string> NewHideOption(string description) => new("--hide")
    {
        Description = description,
        HelpName = "FEATURE[,FEATURE...]",
    };

    public void AddTo(Command command)
    {
        command.Add(Cpu);
        command.Add(CpuidFile);
        command.Add(Host);
        command.Add(Hide);
        command.Validators.Add(r =>
        {
            int n = (r.GetResult(Cpu) is { Implicit: false } ? 1 : 0)
                  + (r.GetResult(CpuidFile) is { Implicit: false } ? 1 : 0)
                  + (r.GetResult(Host) is { Implicit: false } ? 1 : 0);
            if (n > 1)
                r.AddError("--cpu, --cpuid and --host exclude each other; give at most one");
        });
    }

    /// <summary>Resolves the options; bad names and files become <see cref="UserErrorException"/> or
    /// <see cref="CpuProfileFormatException"/>.</summary>
    public CpuSelection Resolve(ParseResult parse) => Hidden(parse, ResolveUnhidden(parse));

    /// <summary><paramref name="sel"/> without the features <c>--hide</c> names (unchanged without it); an unknown
    /// name is a <see cref="UserErrorException"/>.</summary>
    public CpuSelection Hidden(ParseResult parse, CpuSelection sel)
    {
        if (HiddenNames(parse) is not { } names)
            return sel;
        return sel with
        {
            Profile = CpuidMasking.Hide(sel.Profile, names),
            Origin = $"{sel.Origin}, hiding {string.Join(", ", names)}",
        };
    }

    /// <summary>The names given to <c>--hide</c>, checked, or null without the option.</summary>
    private string[]? HiddenNames(ParseResult parse) => HideNames(parse.GetValue(Hide));

    /// <summary>The feature names of a <c>--hide</c> value, checked and lower-cased, or null for no value; an
    /// unknown name is a <see cref="UserErrorException"/>.</summary>
    public static string[]? HideNames(string? list)
    {
        if (list is null)
            return null;
        var names = list.Split(',', StringSplitOptions.TrimEntries);
        foreach (var n in names)
            if (CpuidFeatureDeps.Find(n) is null)
                throw new UserErrorException($"--hide: unknown feature '{SafeText.Excerpt(n)}' (known: {string.Join(", ", CpuidFeatureDeps.Bits.Select(b => b.Name))})");
        return [.. names.Select(n => n.ToLowerInvariant()).Distinct()];
    }

    private CpuSelection ResolveUnhidden(ParseResult parse)
    {
        if (parse.GetValue(Cpu) is { } name)
        {
            if (!CpuCatalog.TryGet(name, out var p))
                throw new UserErrorException($"--cpu: unknown CPU '{name}'; built-in CPUs: {string.Join(", ", CpuCatalog.Names)}");
            return new CpuSelection(p, $"built-in CPU '{p.Name}'", false);
        }
        if (parse.GetValue(CpuidFile) is { } file)
        {
            var p = CpuidTextReader.ReadFile(file);
            return new CpuSelection(p, $"CPUID dump {file}", false);
        }
        if (parse.GetValue(Host))
        {
            if (!HostCpu.TryRead(out var p, out var why))
                throw new UserErrorException($"--host: cannot read this machine's CPU: {why}");
            return new CpuSelection(p!, "this machine's CPU (live CPUID)", true);
        }
        return Default();
    }

    /// <summary>A CPU named by one word, as <c>compat</c> takes them: <c>host</c> (this machine), a catalog name, or
    /// else a CPUID dump file. <paramref name="what"/> names the argument in errors.</summary>
    public static CpuSelection ResolveWord(string word, string what)
    {
        if (string.Equals(word, "host", StringComparison.OrdinalIgnoreCase))
        {
            if (!HostCpu.TryRead(out var h, out var why))
                throw new UserErrorException($"{what}: cannot read this machine's CPU: {why}");
            return new CpuSelection(h!, "this machine's CPU (live CPUID)", true);
        }
        if (CpuCatalog.TryGet(word, out var p))
            return new CpuSelection(p, $"built-in CPU '{p.Name}'", false);
        if (!File.Exists(word) && !Directory.Exists(word))
            throw new UserErrorException($"{what}: '{SafeText.Excerpt(word)}' is neither 'host', a built-in CPU ({string.Join(", ", CpuCatalog.Names)}) nor a CPUID dump file");
        return new CpuSelection(CpuidTextReader.ReadFile(word), $"CPUID dump {word}", false);
    }

    /// <summary>The CPU the options name, or null when none of them was given (no default: for commands where
    /// "no CPU given" means something else, such as finding the CPU from a file).</summary>
    public CpuSelection? ResolveGiven(ParseResult parse)
    {
        if (parse.GetValue(Cpu) is not null || parse.GetValue(CpuidFile) is not null || parse.GetValue(Host))
            return Resolve(parse);
        if (parse.GetValue(Hide) is not null)
            throw new UserErrorException("--hide: name the CPU to hide features of with --cpu, --cpuid or --host");
        return null;
    }

    /// <summary>The host when it can serve (Linux x86-64 with XSAVE), else the catalog default.</summary>
    public static CpuSelection Default()
    {
        if (HostCpu.TryRead(out var host, out var why))
        {
            if (host!.HasXsave)
                return new CpuSelection(host, "this machine's CPU (live CPUID; no --cpu/--cpuid given)", true);
            why = "the host CPU has no XSAVE";
        }
        var d = CpuCatalog.Default;
        return new CpuSelection(d, $"built-in CPU '{d.Name}' (the default: {why})", false);
    }
}
