namespace XsaveLab.Cli.Cli;

/// <summary>The shared <c>--kernel VARIANT</c> option (<see cref="KernelVariants.All"/>, default
/// <see cref="KernelVariants.DefaultName"/>).</summary>
public static class KernelOption
{
    private static string Valid => string.Join(", ", KernelVariants.All.Select(v => v.Name));

    public static Option<string> Create(string what = "Kernel variant") => new("--kernel")
    {
        Description = $"{what}: {Valid}",
        DefaultValueFactory = _ => KernelVariants.DefaultName,
        HelpName = "VARIANT",
    };

    /// <summary>The chosen variant; an unknown name is a <see cref="UserErrorException"/>.</summary>
    public static KernelVariant Get(ParseResult parse, Option<string> option)
    {
        string name = parse.GetValue(option) ?? KernelVariants.DefaultName;
        return KernelVariants.Find(name) ?? throw new UserErrorException($"--kernel: unknown variant '{SafeText.Excerpt(name)}'; valid: {Valid}");
    }
}
