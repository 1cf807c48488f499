namespace XsaveLab.Cli.Commands;

/// <summary><c>image</c>: the XSAVE images users hold (core files, ptrace dumps, signal frames, KVM blobs, raw
/// XSAVE buffers). Each subcommand lives in its own file and is listed once in <see cref="Subcommands"/>.</summary>
public static class ImageCommand
{
    /// <summary>Every <c>image</c> subcommand. To add one: write <c>Commands/ImageFooCommand.cs</c> with
    /// <c>public static Command Create(CliContext ctx)</c> and add it here.</summary>
    public static readonly IReadOnlyList<Func<CliContext, Command>> Subcommands =
    [
        ImageDecodeCommand.Create,
        ImageValidateCommand.Create,
        ImageConvertCommand.Create,
        ImageDiffCommand.Create,
    ];

    public static Command Create(CliContext ctx)
    {
        var cmd = new Command("image", "Decode, convert and compare XSAVE images: core files, ptrace and KVM dumps, signal frames, XSAVE buffers");
        foreach (var factory in Subcommands)
            cmd.Add(factory(ctx));
        return cmd;
    }
}
