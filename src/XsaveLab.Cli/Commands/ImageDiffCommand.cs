using XsaveLab.Kernel.Image;

namespace XsaveLab.Cli.Commands;

/// <summary>The two files of <c>image diff</c> and the differences of each pair of threads.</summary>
public sealed record ImageDiffResult(XsaveImageFile A, XsaveImageFile B, IReadOnlyList<(XsaveImage A, XsaveImage B, IReadOnlyList<RegisterDifference> Differences)> Pairs);

/// <summary><c>image diff A B</c>: register-by-register differences; exit 1 when there are any (as diff(1)).</summary>
public static class ImageDiffCommand
{
    public static Command Create(CliContext ctx)
    {
        var a = new Argument<string>("A") { Description = "A core file or raw XSAVE image" };
        var b = new Argument<string>("B") { Description = "Another, of any kind and layout" };
        var input = new ImageInputOptions();
        var kindB = new Option<string>("--kind-b") { Description = "What B is, when it differs from --kind", HelpName = "KIND" }
            .OneOf([.. Enum.GetValues<ImageKind>().Select(ImageKinds.Name)]);
        var cpuB = new Option<string>("--cpu-b") { Description = "B's CPU (a built-in CPU or 'host'), when it differs from A's options", HelpName = "NAME" };
        var format = FormatOption.Create();
        var cmd = new Command("diff", "Register-by-register differences of two XSAVE images (any kinds and layouts); exit 1 when they differ");
        cmd.Add(a);
        cmd.Add(b);
        input.AddTo(cmd);
        cmd.Add(kindB);
        cmd.Add(cpuB);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var optsA = input.Resolve(parse);
            var optsB = optsA with
            {
                Kind = ImageKinds.TryParse(parse.GetValue(kindB), out var kb) ? kb : optsA.Kind,
                Cpu = ImageConvertCommand.CpuByName("--cpu-b", parse.GetValue(cpuB)) ?? optsA.Cpu,
            };
            var fa = ImageInputOptions.Open(parse.GetValue(a)!, optsA);
            var fb = ImageInputOptions.Open(parse.GetValue(b)!, optsB);
            var pairs = fa.Threads.Zip(fb.Threads, (x, y) => (x, y, ImageDiff.Compare(x, y))).ToList();
            return ctx.Render(FormatOption.Get(parse, format), new ImageDiffResult(fa, fb, pairs), new ImageDiffRenderer());
        });
        return cmd;
    }
}
