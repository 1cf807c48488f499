using XsaveLab.Kernel.Image;

namespace XsaveLab.Cli.Commands;

/// <summary><c>image decode FILE</c>: every register of every thread by name, with the layout it was read with.</summary>
public static class ImageDecodeCommand
{
    public static Command Create(CliContext ctx)
    {
        var file = new Argument<string>("FILE") { Description = "A core file or a raw XSAVE image" };
        var input = new ImageInputOptions();
        var format = FormatOption.Create();
        var cmd = new Command("decode", "Every register of an XSAVE image (each thread of a core) by name, and whether its component is in use");
        cmd.Add(file);
        input.AddTo(cmd);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var opened = ImageInputOptions.Open(parse.GetValue(file)!, input.Resolve(parse));
            return ctx.Render(FormatOption.Get(parse, format), opened, new ImageDecodeRenderer());
        });
        return cmd;
    }
}
