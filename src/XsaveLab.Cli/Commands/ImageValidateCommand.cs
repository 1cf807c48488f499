using XsaveLab.Arch.Input;
using XsaveLab.Kernel.Image;
using XsaveLab.Kvm.Image;

namespace XsaveLab.Cli.Commands;

/// <summary><c>image validate FILE --for CONSUMER</c>: would XRSTOR, XRSTORS, rt_sigreturn, PTRACE_SETREGSET or
/// KVM_SET_XSAVE accept the image on this CPU and kernel, and if not, which rule refuses it at which byte.
/// Exit 0 accepted, 1 refused, 2 bad input.</summary>
public static class ImageValidateCommand
{
    public static Command Create(CliContext ctx)
    {
        var file = new Argument<string>("FILE") { Description = "A raw XSAVE image (the consumer's buffer as it stands) or a core file (each thread's NT_X86_XSTATE)" };
        var consumer = new Option<string>("--for")
        {
            Description = "Who is given the image: " + string.Join(", ", ImageConsumers.All.Select(ImageConsumers.Name)),
            HelpName = string.Join('|', ImageConsumers.All.Select(ImageConsumers.Name)),
            Required = true,
        }.OneOf([.. ImageConsumers.All.Select(ImageConsumers.Name)]);
        var cpu = new CpuSourceOptions();
        var kernel = KernelOption.Create();
        var format = FormatOption.Create();
        var cmd = new Command("validate", "Would XRSTOR, XRSTORS, rt_sigreturn, PTRACE_SETREGSET or KVM_SET_XSAVE accept the image here, and if not, which rule at which byte");
        cmd.Add(file);
        cmd.Add(consumer);
        cpu.AddTo(cmd);
        cmd.Add(kernel);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            ImageConsumers.TryParse(parse.GetValue(consumer), out var who);
            var variant = KernelOption.Get(parse, kernel);
            var sel = cpu.Resolve(parse);
            string path = parse.GetValue(file)!;
            var report = Validate(ReadFile(path), path, who, sel, variant);
            return ctx.Render(FormatOption.Get(parse, format), report, new ImageValidateRenderer(sel));
        });
        return cmd;
    }

    /// <summary>The file's bytes, bounded like every input (a regular file of at most
    /// <see cref="XsaveImageOptions.MaxRawBytes"/>); anything else is a <see cref="UserErrorException"/>.</summary>
    private static byte[] ReadFile(string path)
    {
        var limits = new TextFileLimits("an XSAVE image or core file", XsaveImageOptions.MaxRawBytes);
        return BoundedTextFile.TryReadBytes(path, limits, out var bytes, out var error) ? bytes : throw new UserErrorException(error.ToString());
    }

    /// <summary><see cref="ImageValidation.ValidateFile"/>; for KVM on this machine the flavour is the one /dev/kvm
    /// shows (upstream when it cannot be told).</summary>
    private static ImageValidationReport Validate(byte[] bytes, string path, ImageConsumer who, CpuSelection sel, KernelVariant variant)
    {
        KvmSettings? kvm = null;
        if (who == ImageConsumer.Kvm)
        {
            if (KvmLimits.Problem(sel.Profile) is { } problem)
                throw new UserErrorException($"CPU '{sel.Profile.Name}': {problem}");
            var flavour = sel.IsHost ? XsaveLab.Host.Check.KvmChecks.DetectFlavour(sel.Profile, out _) : null;
            kvm = KvmSettings.For(sel.Profile, variant, flavour: flavour);
        }
        try
        {
            return ImageValidation.ValidateFile(bytes, path, who, sel.Profile, variant, kvm);
        }
        catch (FormatException e)
        {
            throw new UserErrorException(e.Message);
        }
    }
}
