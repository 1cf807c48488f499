namespace XsaveLab.Cli.Commands;

/// <summary><c>variants</c>: every kernel variant, what it changes from its neighbour and the commit or mail each
/// change comes from (<see cref="VariantChanges.List"/>).</summary>
public static class VariantsCommand
{
    public static Command Create(CliContext ctx)
    {
        var format = FormatOption.Create();
        var kernel = KernelOption.Create("Only this variant");
        kernel.DefaultValueFactory = null;
        var cmd = new Command("variants", "The kernel variants: what each changes from its neighbour, with the commit or mail each change comes from");
        cmd.Add(kernel);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            KernelVariant? only = parse.GetResult(kernel) is null ? null : KernelOption.Get(parse, kernel);
            return ctx.Render(FormatOption.Get(parse, format), VariantChanges.List(only), new VariantsRenderer());
        });
        return cmd;
    }
}
