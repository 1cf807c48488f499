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
        var kvm = new Option<string>("--kvm")
        {
            Description = "KVM release: 6.17 (no guest XSS), 6.18 (CET virtualization) or 6.19 (6.18 with XSTATE_BV cleared under XFD)",
            DefaultValueFactory = _ => "6.18",
            HelpName = "6.17|6.18|6.19",
        }.OneOf([.. KvmReleases.Names]);
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
        var cmd = new Command("kvm", "A VMM's ioctl sequence against the KVM model: results, supported CPUID 0xd, XSAVE2 size, guest vs host fpstate, CET state location");
        cpu.AddTo(cmd);
        cmd.Add(kernel);
        cmd.Add(kvm);
        cmd.Add(flavour);
        cmd.Add(vmm);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var sel = cpu.Resolve(parse);
            var (settings, notes) = Settings(parse, sel, KernelOption.Get(parse, kernel), kvm, flavour);
            var report = KvmRequest.Run(parse.GetValue(vmm)!, settings, notes);
            return ctx.Render(FormatOption.Get(parse, format), report, new KvmRenderer(sel));
        });
        return cmd;
    }

    /// <summary>The KVM settings the options ask for. Without <c>--flavour</c> on the host, the flavour is the one
    /// /dev/kvm shows (a note says which, or why upstream was assumed).</summary>
    private static (KvmSettings Settings, IReadOnlyList<string> Notes) Settings(
        ParseResult parse, CpuSelection sel, XsaveLab.Kernel.Variants.KernelVariant variant, Option<string> kvm, Option<string> flavour)
    {
        KvmReleases.TryParse(parse.GetValue(kvm), out var release);
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
