using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

public sealed record FpuCfgJson(string MaxFeatures, int MaxSize, string DefaultFeatures, int DefaultSize);

public sealed record GuestCfgJson(string Features, int Size);

/// <summary>One <see cref="BootDecision"/>.</summary>
public sealed record BootDecisionJson(string Subject, string Outcome, string Reason, string Function, bool Dropped)
{
    public static BootDecisionJson From(BootDecision d) => new(d.Subject, d.Outcome, d.Reason, d.Function, d.Dropped);
}

/// <summary><c>boot --format json</c>. <c>warnings</c> holds the kernel's own warnings, then one line for each
/// feature the CPU offers that the boot dropped (the <c>decisions</c> marked <c>dropped</c>). <c>lostFeatures</c>
/// are the xfeatures a disabled XSAVE took away; <c>knownMistake</c> names the CPUID size error a failed size
/// check matches (<c>--as-guest</c>), else null. <c>stopped</c> is the fault that ended the boot in
/// <c>fpu__init_cpu_xstate()</c> ("#GP on XSETBV 0x…: rule"), else null. <c>variantEffect</c> (only for a variant other
/// than the landed one) says what the variant changes in this boot and which of its cited differences are behind it.</summary>
public sealed record BootJson(
    string Kernel, string Cpu, IReadOnlyList<string> Dmesg, FpuCfgJson KernelCfg, FpuCfgJson UserCfg, GuestCfgJson? GuestDefaultCfg,
    string Xcr0, string Xss, string Xfd, int GuestFpstateSize, int MaxSigframeSize, IReadOnlyList<string> Warnings,
    IReadOnlyList<BootDecisionJson> Decisions, bool AsGuest, bool XsaveEnabled, string LostFeatures,
    IReadOnlyList<string> LostCpuFeatures, string? KnownMistake, string? Stopped,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VariantEffectJson? VariantEffect);

/// <summary><c>boot</c>: the boot log and the three state configurations a boot leaves behind.</summary>
public sealed class BootRenderer(CpuSelection selection) : IRenderer<BootReport>
{
    public object ToJson(BootReport r) => ToBootJson(r);

    public static BootJson ToBootJson(BootReport r) => new(
        r.Kernel, r.Cpu, r.Dmesg, Cfg(r.KernelCfg), Cfg(r.UserCfg),
        r.HasGuestDefaultCfg ? new GuestCfgJson(Json.Hex(r.GuestDefaultCfg.Features), r.GuestDefaultCfg.Size) : null,
        Json.Hex(r.Xcr0), Json.Hex(r.Xss), Json.Hex(r.InitXfd), r.GuestFpstateSize, r.MaxFrameSize,
        [.. r.Warnings, .. r.Decisions.Where(d => d.Dropped).Select(d => d.ToString())], [.. r.Decisions.Select(BootDecisionJson.From)],
        r.AsGuest, r.XsaveEnabled, Json.Hex(r.LostFeatures), r.LostCpuFeatures, r.KnownMistake, r.Stopped?.Summary, VariantEffectJson.From(r.Effect));

    /// <summary>Exit 1 when the boot stops on a fault; with <c>--as-guest</c> also when the guest loses features, so
    /// a VMM's CI can run it on its templates.</summary>
    public int ExitCode(BootReport r) => r.Stopped is not null || (r.AsGuest && r.LostFeatures != 0) ? 1 : 0;

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
        RenderDecisions(console, rep.Decisions);
        console.WriteLine($"XCR0 {Json.Hex(rep.Xcr0)}, IA32_XSS {Json.Hex(rep.Xss)}, IA32_XFD {Json.Hex(rep.InitXfd)}");
        if (rep.Stopped is { } stop)
        {
            console.WriteLine($"Boot stopped: {stop.Summary}");
            console.WriteLine($"  fpu__init_cpu_xstate() has no exception-table entry: oops (trap 0x{stop.Vector:x2}, error 0) in the idle task, then panic");
        }
        else
            console.WriteLine($"per-task {Numbers.Bytes(rep.HostDefaultSize)}, new vCPU {Numbers.Bytes(rep.GuestFpstateSize)}, AT_MINSIGSTKSZ {Numbers.Int(rep.MaxFrameSize)}");
        if (rep.AsGuest)
            RenderGuestView(console, rep);
        VariantEffectRendering.Write(console, rep.Effect, $"this boot of {rep.Cpu}");
    }

    // The guest's outcome in plain words: XSAVE on or off, what it lost, and which CPUID mistake caused it.
    private static void RenderGuestView(IAnsiConsole console, BootReport rep)
    {
        console.WriteLine("Guest view (CPUID 0xd EBX as the hypervisor presents it):");
        if (rep.SizeMismatch is { } m)
            console.WriteLine($"  size check: kernel computes {m.Computed}, CPUID(0xd,{m.SubLeaf}).EBX reports {m.Reported}");
        if (rep.KnownMistake is { } k)
            console.WriteLine($"  known mistake: {k}");
        if (rep.Stopped is { } stop)
        {
            console.WriteLine($"  the guest kernel panics at boot ({stop.Summary}): no user space runs; lost xfeatures {Json.Hex(rep.LostFeatures)}");
            return;
        }
        if (rep.XsaveEnabled)
        {
            console.WriteLine($"  XSAVE enabled ({rep.SaveInstruction.ToString().ToUpperInvariant()}); no features lost");
            return;
        }
        console.WriteLine($"  XSAVE disabled: the kernel uses {rep.SaveInstruction.ToString().ToUpperInvariant()}");
        if (rep.LostFeatures != 0)
            console.WriteLine($"  lost xfeatures {Json.Hex(rep.LostFeatures)}: {XFeatureTable.Describe(rep.LostFeatures)}");
        if (rep.LostCpuFeatures.Count > 0)
            console.WriteLine($"  gone from /proc/cpuinfo: {string.Join(" ", rep.LostCpuFeatures)}");
        console.WriteLine($"  user space: AT_MINSIGSTKSZ {Numbers.Int(rep.MaxFrameSize)}, signal frames carry the {Numbers.Int(rep.UserCfg.MaxSize)}-byte FXSAVE image");
    }

    /// <summary>The boot's departures from the default path, one per line (also used by <c>report</c>).</summary>
    public static void RenderDecisions(IAnsiConsole console, IReadOnlyList<BootDecision> decisions)
    {
        if (decisions.Count == 0)
            return;
        console.WriteLine("Boot decisions (not the default path):");
        foreach (var d in decisions)
            console.WriteWrapped($"  {d}");
    }
}
