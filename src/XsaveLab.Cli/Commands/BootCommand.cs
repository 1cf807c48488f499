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
        var asGuest = new Option<bool>("--as-guest")
        {
            Description = "Read CPUID as a hypervisor presents it: EBX of 0xd.0/0xd.1 as given, not recomputed; exit 1 when the guest loses features",
        };
        var cmd = new Command("boot", "Boot the Linux FPU core: the x86/fpu boot log and the three state configurations");
        cpu.AddTo(cmd);
        cmd.Add(kernel);
        cmd.Add(asGuest);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var variant = KernelOption.Get(parse, kernel);
            var sel = cpu.Resolve(parse);
            return ctx.Render(FormatOption.Get(parse, format), BootReport.Create(sel.Profile, variant, BootOptions.Default with { CpuidAsGiven = parse.GetValue(asGuest) }), new BootRenderer(sel));
        });
        return cmd;
    }
}
