using System.CommandLine;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Kvm;
using XsaveLab.Kvm.Caps;
using XsaveLab.Kvm.Report;
using XsaveLab.Kvm.Script;

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
            Description = "KVM release: 6.17 (no guest XSS) or 6.18 (CET virtualization)",
            DefaultValueFactory = _ => "6.18",
            HelpName = "6.17|6.18",
        }.AcceptOnlyFromAmong("6.17", "6.18");
        var flavour = new Option<string>("--flavour")
        {
            Description = "KVM flavour: upstream, or pvm (paravirtual: pruned CPUID, no guest XSS/CET); with --host it is derived from /dev/kvm unless given",
            HelpName = "upstream|pvm",
        }.AcceptOnlyFromAmong("upstream", "pvm");
        var vmm = new Option<string>("--vmm")
        {
            Description = $"VMM sequence: {string.Join(", ", BuiltinScripts.All.Keys)}, or a script FILE (one ioctl per line)",
            DefaultValueFactory = _ => "qemu",
            HelpName = "qemu|firecracker|NAME|FILE",
        };
        var cmd = new Command("kvm", "A VMM's ioctl sequence against the KVM model: results, supported CPUID 0xD, XSAVE2 size, guest vs host fpstate, CET state location");
        cpu.AddTo(cmd);
        cmd.Add(kernel);
        cmd.Add(kvm);
        cmd.Add(flavour);
        cmd.Add(vmm);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var sel = cpu.Resolve(parse);
            var variant = KernelOption.Get(parse, kernel);
            KvmReleases.TryParse(parse.GetValue(kvm), out var release);
            KvmFlavour fl = KvmFlavour.Upstream;
            string? flavourNote = null;
            if (parse.GetValue(flavour) is { } fname)
                KvmFlavour.TryParse(fname, out fl);
            else if (sel.IsHost)
            {
                fl = XsaveLab.Host.Check.KvmChecks.DetectFlavour(sel.Profile, out var why) ?? KvmFlavour.Upstream;
                flavourNote = why.Length > 0 ? $"flavour: upstream assumed ({why})" : $"flavour '{fl.Name}' derived from /dev/kvm";
            }
            string name = parse.GetValue(vmm)!;
            if (!BuiltinScripts.All.ContainsKey(name) && !File.Exists(name))
                throw new UserErrorException($"--vmm: '{ScriptText.Excerpt(name, 200)}' is neither a built-in sequence ({string.Join(", ", BuiltinScripts.All.Keys)}) nor a file");
            VmmScript script;
            try
            {
                script = BuiltinScripts.All.ContainsKey(name) ? BuiltinScripts.Get(name) : VmmScript.ParseFile(name);
            }
            catch (VmmScriptException e)
            {
                throw new UserErrorException(e.Message);
            }
            if (KvmLimits.Problem(sel.Profile) is { } bound)
                throw new UserErrorException($"--cpu {sel.Profile.Name}: {bound}");
            var settings = KvmSettings.For(sel.Profile, variant, release, fl);
            if (BuiltinScripts.Unmet(name, new XsaveLab.Kvm.Vm.KvmSystem(settings)) is { } unmet)
                throw new UserErrorException($"--vmm: {unmet}; this CPU is {sel.Profile.Name}");
            var report = KvmReport.Create(script, settings, name);
            if (flavourNote is not null)
                report = report with { Notes = [flavourNote, .. report.Notes] };
            if (FormatOption.Get(parse, format) == OutputFormat.Json)
                ctx.Out.WriteLine(report.ToJsonString());
            else
                Render(ctx.CreateConsole(), report, sel);
            return report.Ok ? 0 : 1;
        });
        return cmd;
    }

    private static void Render(IAnsiConsole c, KvmReport r, CpuSelection sel)
    {
        c.WriteLine($"CPU: {r.Cpu} - {LayoutCommand.Describe(sel)}; kernel {r.Kernel}; KVM {r.Kvm} ({r.Flavour}); VMM sequence '{r.Vmm}'");
        var steps = new Table().Border(TableBorder.Rounded).AddColumn("line").AddColumn("call").AddColumn("result").AddColumn("detail");
        foreach (var s in r.Steps)
        {
            string detail = s.Text + string.Concat(s.Guest.Select(g => "\n  guest: " + g));
            if (s.Expect is not null)
                detail += $"\n  expect {s.Expect}: {(s.ExpectMet == true ? "met" : "NOT MET")}";
            steps.AddRow(s.Line.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape((s.Ioctl + " " + s.Args).Trim()),
                Markup.Escape(s.ResultText), Markup.Escape(detail));
        }
        c.Write(steps);

        var cpuid = new Table().Border(TableBorder.Rounded).Title("KVM_GET_SUPPORTED_CPUID leaf 0xD")
            .AddColumn("subleaf").AddColumn("eax").AddColumn("ebx").AddColumn("ecx").AddColumn("edx");
        foreach (var e in r.SupportedCpuid)
            cpuid.AddRow($"{e.Index}", $"0x{e.Eax:x8}", $"0x{e.Ebx:x8}", $"0x{e.Ecx:x8}", $"0x{e.Edx:x8}");
        c.Write(cpuid);
        c.WriteLine($"KVM_CAP_XSAVE2 (this process's guest permission): {r.Xsave2Size}");

        var fp = new Table().Border(TableBorder.Rounded).AddColumn("fpstate").AddColumn("size").AddColumn("features");
        if (r.GuestFpstateAtCreate is { } g0)
            fp.AddRow("vCPU 0 at creation", $"{g0.Size}", Markup.Escape($"0x{g0.Features:x} {g0.Describe}"));
        if (r.GuestFpstate is { } g)
            fp.AddRow("vCPU 0 now", $"{g.Size}", Markup.Escape($"0x{g.Features:x} {g.Describe}"));
        fp.AddRow("host task (default)", $"{r.HostFpstate.Size}", Markup.Escape($"0x{r.HostFpstate.Features:x} {r.HostFpstate.Describe}"));
        c.Write(fp);

        var cet = new Table().Border(TableBorder.Rounded).Title("CET state").AddColumn("MSR").AddColumn("guest value lives in");
        foreach (var x in r.CetState)
            cet.AddRow(x.Msr, Markup.Escape(x.Location));
        c.Write(cet);
        foreach (var n in r.Notes)
            c.WriteLine("note: " + n);
        c.WriteLine(r.Ok ? "All expectations met." : "Some expectations were NOT met.");
    }
}
