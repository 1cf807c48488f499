using XsaveLab.Kernel.Image;

namespace XsaveLab.Cli.Commands;

/// <summary>What <c>image convert</c> did: the source, the conversion and where it was written.</summary>
public sealed record ImageConvertResult(XsaveImageFile Source, XsaveImage Thread, CpuProfile Target, ImageConversion Conversion, string Output);

/// <summary><c>image convert FILE --to standard|compacted [--from-cpu A] [--to-cpu B] -o OUT</c>.</summary>
public static class ImageConvertCommand
{
    public static Command Create(CliContext ctx)
    {
        var file = new Argument<string>("FILE") { Description = "A core file or a raw XSAVE image" };
        var kind = new ImageInputOptions().Kind;
        var to = new Option<string>("--to")
        {
            Description = "Target format",
            HelpName = "standard|compacted",
            Required = true,
        }.OneOf("standard", "compacted");
        var fromCpu = new Option<string>("--from-cpu")
        {
            Description = "The CPU whose layout the file has (a built-in CPU or 'host'; default: found from the file)",
            HelpName = "NAME",
        };
        var toCpu = new Option<string>("--to-cpu")
        {
            Description = "The CPU whose layout to write (a built-in CPU or 'host'; default: the source's CPU)",
            HelpName = "NAME",
        };
        var thread = new Option<int?>("--thread") { Description = "The thread of a core to convert (default: the first)", HelpName = "TID" };
        var output = new Option<string>("-o", "--output") { Description = "The file to write (a regular file)", HelpName = "OUT", Required = true };
        var format = FormatOption.Create();
        var cmd = new Command("convert", "Rewrite an XSAVE image in the standard or compacted format, for the same or another CPU's layout");
        cmd.Add(file);
        cmd.Add(kind);
        cmd.Add(to);
        cmd.Add(fromCpu);
        cmd.Add(toCpu);
        cmd.Add(thread);
        cmd.Add(output);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            OutputFile.Check("--output", path);
            ImageKind? k = ImageKinds.TryParse(parse.GetValue(kind), out var kk) ? kk : null;
            var src = ImageInputOptions.Open(parse.GetValue(file)!, new XsaveImageOptions(k, CpuByName("--from-cpu", parse.GetValue(fromCpu))));
            var result = Convert(src, parse.GetValue(thread), CpuByName("--to-cpu", parse.GetValue(toCpu)), parse.GetValue(to) == "compacted", path);
            return ctx.Render(FormatOption.Get(parse, format), result, new ImageConvertRenderer());
        });
        return cmd;
    }

    /// <summary>Converts the chosen thread for <paramref name="toCpu"/> (default: the source's CPU) and writes it.</summary>
    private static ImageConvertResult Convert(XsaveImageFile src, int? thread, CpuProfile? toCpu, bool compacted, string path)
    {
        var t = thread is int tid
            ? src.Threads.FirstOrDefault(x => x.Tid == tid) ?? throw new UserErrorException($"--thread: {src.Source} has no thread {tid} (threads: {string.Join(", ", src.Threads.Select(x => x.Tid))})")
            : src.Threads[0];
        var target = toCpu ?? src.Cpu
            ?? throw new UserErrorException("--to-cpu: required: the source's layout came from its NT_X86_XSAVE_LAYOUT note, which names no CPU");
        if (compacted && !target.HasXsavec)
            throw new UserErrorException($"--to compacted: {target.Name} has no XSAVEC, so it has no compacted format");
        var conv = ImageConverter.Convert(t, target, compacted);
        OutputFile.Write("--output", path, temp => File.WriteAllBytes(temp, conv.Image.Bytes));
        return new ImageConvertResult(src, t, target, conv, path);
    }

    /// <summary>A built-in CPU by name, or this machine's for "host"; null when not given.</summary>
    internal static CpuProfile? CpuByName(string option, string? name)
    {
        if (name is null)
            return null;
        if (name == "host")
            return HostCpu.TryRead(out var h, out var why) ? h! : throw new UserErrorException($"{option}: cannot read this machine's CPU: {why}");
        return CpuCatalog.TryGet(name, out var p) ? p
            : throw new UserErrorException($"{option}: unknown CPU '{name}'; built-in CPUs: {string.Join(", ", CpuCatalog.Names)}, or host");
    }
}
