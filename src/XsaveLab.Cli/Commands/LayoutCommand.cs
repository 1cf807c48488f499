namespace XsaveLab.Cli.Commands;

/// <summary><c>layout</c>: where every component sits, standard and compacted, and the area sizes.</summary>
public static class LayoutCommand
{
    public static Command Create(CliContext ctx)
    {
        var cpu = new CpuSourceOptions();
        var format = FormatOption.Create();
        var xcr0 = new Option<string>("--xcr0")
        {
            Description = "XCR0 to lay out, hex (default: every user component the CPU supports)",
            HelpName = "HEX",
        };
        var xss = new Option<string>("--xss")
        {
            Description = "IA32_XSS to lay out, hex (default: every supervisor component the CPU supports)",
            HelpName = "HEX",
        };
        var cmd = new Command("layout", "Offsets and sizes of every XSAVE component: standard and compacted form, for XCR0 and XCR0|XSS");
        cpu.AddTo(cmd);
        cmd.Add(xcr0);
        cmd.Add(xss);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            ulong? x = HexMask.Parse(parse.GetValue(xcr0), "--xcr0");
            ulong? s = HexMask.Parse(parse.GetValue(xss), "--xss");
            var sel = cpu.Resolve(parse);
            Check(sel.Profile, x, s);
            return ctx.Render(FormatOption.Get(parse, format), LayoutReport.Create(sel.Profile, x, s), new LayoutRenderer(sel));
        });
        return cmd;
    }

    /// <summary>Masks the CPU cannot have are bad input, named by their option; so is <c>--xss</c> for a CPU
    /// without XSAVES, which has no IA32_XSS (SDM Vol. 1 13.2: the MSR exists when CPUID.(EAX=0DH,ECX=1):EAX[3]
    /// is set), where the value would be ignored.</summary>
    private static void Check(CpuProfile cpu, ulong? xcr0, ulong? xss)
    {
        if (xcr0 is ulong x && LayoutView.CheckXcr0(cpu, x) is { } e1)
            throw new UserErrorException($"--xcr0: {e1}");
        if (xss is not null && !cpu.HasXsaves)
            throw new UserErrorException($"--xss: {cpu.Name} has no XSAVES, so it has no IA32_XSS and there is no supervisor state to lay out");
        if (xss is ulong s && LayoutView.CheckXss(cpu, s) is { } e2)
            throw new UserErrorException($"--xss: {e2}");
    }
}
