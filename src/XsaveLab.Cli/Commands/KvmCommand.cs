namespace XsaveLab.Cli.Commands;

/// <summary><c>kvm</c>: runs a VMM sequence (built-in or a script file) against the KVM model and shows each ioctl
/// with its result, the guest's supported CPUID 0xD, the XSAVE2 size, guest vs host fpstates and where CET state lives.</summary>
public static class KvmCommand
{
    public static Command Create(CliContext ctx)
    {
        var cpu = new CpuSourceOptions();
        var format = FormatOption.Create();
        var kernel = KernelOption.Create("Host kernel variant");
        var kvm = KvmOption();
        var flavour = new Option<string>("--flavour")
        {
            Description = "KVM flavour: upstream, or pvm (paravirtual: pruned CPUID, no guest XSS/CET); with --host it is derived from /dev/kvm unless given",
            HelpName = "upstream|pvm",
        }.OneOf("upstream", "pvm");
        var vmm = new Option<string>("--vmm")
        {
            Description = $"VMM sequence: {string.Join(", ", BuiltinScripts.All.Keys)}, or a script FILE (one ioctl per line)",
            DefaultValueFactory = _ => "qemu",
            HelpName = "qemu|firecracker|NAME|FILE",
        };
        var print = new Option<bool>("--print")
        {
            Description = "Write the built-in sequence named by --vmm as a script to start from (stdout, or --output FILE) instead of running it",
        };
        var output = new Option<string>("-o", "--output") { Description = "With --print: write the script to FILE", HelpName = "FILE" };
        var cmd = new Command("kvm", "A VMM's ioctl sequence against the KVM model: results, supported CPUID 0xd, XSAVE2 size, guest vs host fpstate, CET state location");
        cpu.AddTo(cmd);
        cmd.Add(kernel);
        cmd.Add(kvm);
        cmd.Add(flavour);
        cmd.Add(vmm);
        cmd.Add(print);
        cmd.Add(output);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            string? path = parse.GetValue(output);
            if (parse.GetValue(print))
                return PrintTemplate(ctx, parse.GetValue(vmm)!, path);
            if (path is not null)
                throw new UserErrorException("--output: only with --print (the file the built-in sequence is written to)");
            var sel = cpu.Resolve(parse);
            var (settings, notes) = Settings(parse, sel, KernelOption.Get(parse, kernel), kvm, flavour);
            var report = KvmRequest.Run(parse.GetValue(vmm)!, settings, notes);
            return ctx.Render(FormatOption.Get(parse, format), report, new KvmRenderer(sel));
        });
        return cmd;
    }

    /// <summary><c>--kvm</c>: without it, the release the kernel variant pairs with (<see cref="KvmReleases.For"/>).</summary>
    internal static Option<string> KvmOption() => new Option<string>("--kvm")
    {
        Description = "KVM release: 6.1, 6.6, 6.12 (LTS: XSAVE2 and guest permissions, no guest XSS), 6.17 (no guest XSS), 6.18 (CET virtualization) or 6.19 (6.18 with XSTATE_BV cleared under XFD); default: the kernel variant's (its own for an LTS kernel, else 6.18)",
        HelpName = "RELEASE",
    }.OneOf([.. KvmReleases.Names]);

    /// <summary>The release <c>--kvm</c> names, or null for the kernel variant's own.</summary>
    internal static KvmRelease? Release(ParseResult parse, Option<string> kvm) =>
        KvmReleases.TryParse(parse.GetValue(kvm), out var r) ? r : null;

    /// <summary><c>--print</c>: the built-in sequence's text, to stdout or through <see cref="OutputFile"/>; it parses
    /// back to the same script (<c>kvm --vmm FILE</c>).</summary>
    private static int PrintTemplate(CliContext ctx, string vmm, string? path)
    {
        OutputFile.Check("--output", path);
        string text = KvmRequest.Template(vmm);
        if (path is null)
            ctx.Out.Write(text);
        else
            OutputFile.WriteText("--output", path, text);
        return 0;
    }

    /// <summary>The KVM settings the options ask for. Without <c>--flavour</c> on the host, the flavour is the one
    /// /dev/kvm shows (a note says which, or why upstream was assumed).</summary>
    private static (KvmSettings Settings, IReadOnlyList<string> Notes) Settings(
        ParseResult parse, CpuSelection sel, XsaveLab.Kernel.Variants.KernelVariant variant, Option<string> kvm, Option<string> flavour)
    {
        var release = Release(parse, kvm);
        KvmFlavour fl = KvmFlavour.Upstream;
        List<string> notes = [];
        if (parse.GetValue(flavour) is { } fname)
            KvmFlavour.TryParse(fname, out fl);
        else if (sel.IsHost)
        {
            fl = XsaveLab.Host.Check.KvmChecks.DetectFlavour(sel.Profile, out var why) ?? KvmFlavour.Upstream;
            notes.Add(why.Length > 0 ? $"flavour: upstream assumed ({why})" : $"flavour '{fl.Name}' derived from /dev/kvm");
        }
        return (KvmSettings.For(sel.Profile, variant, release, fl), notes);
    }
}
