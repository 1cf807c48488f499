using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record FpuCfgJson(string MaxFeatures, int MaxSize, string DefaultFeatures, int DefaultSize);

public sealed record GuestCfgJson(string Features, int Size);

public sealed record BootJson(
    string Kernel, string Cpu, IReadOnlyList<string> Dmesg, FpuCfgJson KernelCfg, FpuCfgJson UserCfg, GuestCfgJson? GuestDefaultCfg,
    string Xcr0, string Xss, string Xfd, int GuestFpstateSize, int MaxSigframeSize, IReadOnlyList<string> Warnings);

/// <summary><c>boot</c>: the boot log and the three state configurations a boot leaves behind.</summary>
public sealed class BootRenderer(CpuSelection selection) : IRenderer<BootReport>
{
    public object ToJson(BootReport r) => ToBootJson(r);

    public static BootJson ToBootJson(BootReport r) => new(
        r.Kernel, r.Cpu, r.Dmesg, Cfg(r.KernelCfg), Cfg(r.UserCfg),
        r.HasGuestDefaultCfg ? new GuestCfgJson(Json.Hex(r.GuestDefaultCfg.Features), r.GuestDefaultCfg.Size) : null,
        Json.Hex(r.Xcr0), Json.Hex(r.Xss), Json.Hex(r.InitXfd), r.GuestFpstateSize, r.MaxFrameSize, r.Warnings);

    private static FpuCfgJson Cfg(FpuStateConfig c) =>
        new(Json.Hex(c.MaxFeatures), c.MaxSize, Json.Hex(c.DefaultFeatures), c.DefaultSize);

    public void RenderText(IAnsiConsole console, BootReport rep)
    {
        console.WriteLine($"CPU: {selection.Profile.Name} ({selection.Origin}); kernel {rep.Kernel}");
        // The kernel's own lines, whole: a narrow terminal must not break them (they are compared with dmesg).
        foreach (var line in rep.Dmesg)
            console.WriteUnwrapped(line);
        var t = new TextTable("config", "max\nfeatures", "max\nsize", "default\nfeatures", "default\nsize").AlignRight(2, 4);
        t.AddRow("fpu_kernel_cfg", Json.Hex(rep.KernelCfg.MaxFeatures), Numbers.Int(rep.KernelCfg.MaxSize), Json.Hex(rep.KernelCfg.DefaultFeatures), Numbers.Int(rep.KernelCfg.DefaultSize));
        t.AddRow("fpu_user_cfg", Json.Hex(rep.UserCfg.MaxFeatures), Numbers.Int(rep.UserCfg.MaxSize), Json.Hex(rep.UserCfg.DefaultFeatures), Numbers.Int(rep.UserCfg.DefaultSize));
        if (rep.HasGuestDefaultCfg)
            t.AddRow("guest_default_cfg", "", "", Json.Hex(rep.GuestDefaultCfg.Features), Numbers.Int(rep.GuestDefaultCfg.Size));
        t.Write(console);
        console.WriteLine($"XCR0 {Json.Hex(rep.Xcr0)}, IA32_XSS {Json.Hex(rep.Xss)}, IA32_XFD {Json.Hex(rep.InitXfd)}");
        console.WriteLine($"per-task {Numbers.Bytes(rep.HostDefaultSize)}, new vCPU {Numbers.Bytes(rep.GuestFpstateSize)}, AT_MINSIGSTKSZ {Numbers.Int(rep.MaxFrameSize)}");
    }
}
