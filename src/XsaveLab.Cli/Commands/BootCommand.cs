using System.CommandLine;
using Spectre.Console;
using XsaveLab.Cli.Cli;
using XsaveLab.Kernel.Boot;

namespace XsaveLab.Cli.Commands;

/// <summary><c>boot</c>: the Linux FPU core's boot on a CPU for a kernel variant — the exact boot log and the
/// fpu_kernel_cfg / fpu_user_cfg / guest_default_cfg it leaves behind.</summary>
public static class BootCommand
{
    public static Command Create(CliContext ctx)
    {
        var cpu = new CpuSourceOptions();
        var format = FormatOption.Create();
        var kernel = KernelOption.Create();
        var cmd = new Command("boot", "Boot the Linux FPU core: the x86/fpu boot log and the three state configurations");
        cpu.AddTo(cmd);
        cmd.Add(kernel);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var variant = KernelOption.Get(parse, kernel);
            var sel = cpu.Resolve(parse);
            var rep = BootReport.From(FpuSystem.Boot(sel.Profile, variant));
            if (FormatOption.Get(parse, format) == OutputFormat.Json)
            {
                Json.Write(ctx.Out, ToJson(rep));
                return 0;
            }
            var console = ctx.CreateConsole();
            console.WriteLine($"CPU: {sel.Profile.Name} ({sel.Origin}); kernel {rep.Kernel}");
            foreach (var line in rep.Dmesg)
                console.WriteLine(line);
            var t = new Table().AddColumns("config", "max features", "max size", "default features", "default size");
            t.AddRow("fpu_kernel_cfg", Json.Hex(rep.KernelCfg.MaxFeatures), $"{rep.KernelCfg.MaxSize}", Json.Hex(rep.KernelCfg.DefaultFeatures), $"{rep.KernelCfg.DefaultSize}");
            t.AddRow("fpu_user_cfg", Json.Hex(rep.UserCfg.MaxFeatures), $"{rep.UserCfg.MaxSize}", Json.Hex(rep.UserCfg.DefaultFeatures), $"{rep.UserCfg.DefaultSize}");
            t.AddRow("guest_default_cfg", "", "", Json.Hex(rep.GuestDefaultCfg.Features), $"{rep.GuestDefaultCfg.Size}");
            console.Write(t);
            console.WriteLine($"XCR0 {Json.Hex(rep.Xcr0)}  IA32_XSS {Json.Hex(rep.Xss)}  IA32_XFD {Json.Hex(rep.InitXfd)}  per-task {rep.HostDefaultSize} bytes, new vCPU {rep.GuestFpstateSize} bytes, AT_MINSIGSTKSZ {rep.MaxFrameSize}");
            return 0;
        });
        return cmd;
    }

    private static object Cfg(FpuStateConfig c) => new
    {
        maxFeatures = Json.Hex(c.MaxFeatures),
        maxSize = c.MaxSize,
        defaultFeatures = Json.Hex(c.DefaultFeatures),
        defaultSize = c.DefaultSize,
    };

    internal static object ToJson(BootReport r) => new
    {
        kernel = r.Kernel,
        cpu = r.Cpu,
        dmesg = r.Dmesg,
        kernelCfg = Cfg(r.KernelCfg),
        userCfg = Cfg(r.UserCfg),
        guestDefaultCfg = new { features = Json.Hex(r.GuestDefaultCfg.Features), size = r.GuestDefaultCfg.Size },
        xcr0 = Json.Hex(r.Xcr0),
        xss = Json.Hex(r.Xss),
        xfd = Json.Hex(r.InitXfd),
        guestFpstateSize = r.GuestFpstateSize,
        maxSigframeSize = r.MaxFrameSize,
        warnings = r.Warnings,
    };
}
