using XsaveLab.Kernel.Image;

namespace XsaveLab.Cli.Cli;

/// <summary>The options every <c>image</c> subcommand reads a file with: <c>--kind</c> for a raw image and
/// <c>--cpu | --cpuid | --host</c> for its layout (none: the layout is found from the file, see
/// <see cref="XsaveImageFile"/>).</summary>
public sealed class ImageInputOptions
{
    public Option<string> Kind { get; } = new Option<string>("--kind")
    {
        Description = "What a raw file is: " + string.Join('|', ImageKinds.Raw.Select(ImageKinds.Name)) + " (default: an ELF core by its magic, else guessed)",
        HelpName = "KIND",
    }.OneOf([.. Enum.GetValues<ImageKind>().Select(ImageKinds.Name)]);

    public CpuSourceOptions Cpu { get; } = new();

    public void AddTo(Command command)
    {
        command.Add(Kind);
        Cpu.AddTo(command);
    }

    /// <summary>The reader's options from the command line.</summary>
    public XsaveImageOptions Resolve(ParseResult parse)
    {
        ImageKind? kind = ImageKinds.TryParse(parse.GetValue(Kind), out var k) ? k : null;
        return new XsaveImageOptions(kind, Cpu.ResolveGiven(parse)?.Profile);
    }

    /// <summary>Reads <paramref name="path"/>; a file that is not a readable image is a
    /// <see cref="UserErrorException"/> naming the file, field and offset (exit 2).</summary>
    public static XsaveImageFile Open(string path, XsaveImageOptions options)
    {
        var r = XsaveImageFile.Read(path, options);
        return r.File ?? throw new UserErrorException(r.Error!.ToString());
    }
}
