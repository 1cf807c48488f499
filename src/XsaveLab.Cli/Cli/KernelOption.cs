namespace XsaveLab.Cli.Cli;

/// <summary>The shared <c>--kernel VARIANT|FILE</c> option (<see cref="KernelVariants.All"/>, default
/// <see cref="KernelVariants.DefaultName"/>, or a variant file read by <see cref="KernelVariantFile"/>).</summary>
public static class KernelOption
{
    private static string Valid => string.Join(", ", KernelVariants.All.Select(v => v.Name));

    public static Option<string> Create(string what = "Kernel variant") => new("--kernel")
    {
        Description = $"{what}: {Valid}, or a variant FILE (docs/kernel-variant-files.md)",
        DefaultValueFactory = _ => KernelVariants.DefaultName,
        HelpName = "VARIANT|FILE",
    };

    /// <summary>The option without a default, for a command that runs its own set of variants and adds the one given.</summary>
    public static Option<string> CreateOptional(string what) => new("--kernel")
    {
        Description = $"{what}: {Valid}, or a variant FILE (docs/kernel-variant-files.md)",
        HelpName = "VARIANT|FILE",
    };

    /// <summary>The variant given, or null when the option is absent.</summary>
    public static KernelVariant? GetOptional(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) is null ? null : Get(parse, option);

    /// <summary>The chosen variant: a built-in name, else a file that exists; an unknown name or a bad file is a
    /// <see cref="UserErrorException"/> (a file's error names the file and the field).</summary>
    public static KernelVariant Get(ParseResult parse, Option<string> option)
    {
        string name = parse.GetValue(option) ?? KernelVariants.DefaultName;
        if (KernelVariants.Find(name) is { } builtin)
            return builtin;
        if (!LooksLikeFile(name))
            throw new UserErrorException($"--kernel: unknown variant '{SafeText.Excerpt(name)}'; valid: {Valid}, or a variant FILE");
        try
        {
            return KernelVariantFile.Read(name);
        }
        catch (KernelVariantFileException e)
        {
            throw new UserErrorException(e.Message);
        }
    }

    // A name with a path separator or an extension, or one that names an existing file, is a file.
    private static bool LooksLikeFile(string name) =>
        name.Contains('/') || name.Contains('.', StringComparison.Ordinal) && !char.IsDigit(name[0]) || File.Exists(name);
}
