namespace XsaveLab.Cli.Commands;

/// <summary>Hidden maintenance command: <c>catalog import DUMP --name N --description D [--out DIR]</c> turns a
/// CPUID dump into a compact built-in profile (src/XsaveLab.Arch/Profiles/N.cpuid), so catalog files are
/// always generated from dumps, never typed.</summary>
public static class CatalogCommand
{
    public static Command Create(CliContext ctx)
    {
        var dump = new Argument<string>("DUMP") { Description = "CPUID dump (InstLatx64 or 'cpuid -r')" };
        var name = new Option<string>("--name") { Description = "Short name, e.g. spr", Required = true, HelpName = "NAME" };
        var description = new Option<string>("--description") { Description = "One line about the CPU", Required = true, HelpName = "TEXT" };
        var outDir = new Option<string>("--out") { Description = "Directory to write NAME.cpuid into (default: stdout)", HelpName = "DIR" };
        var import = new Command("import", "Write the compact profile of a dump");
        import.Add(dump);
        import.Add(name);
        import.Add(description);
        import.Add(outDir);
        import.SetAction(parse =>
        {
            string n = Name(parse.GetValue(name)!), d = Description(parse.GetValue(description)!);
            string? path = parse.GetValue(outDir) is { } dir ? Target(dir, n) : null;
            // The reader applies the same limits and leaf 0xD validation as every other command's --cpuid.
            string text = CpuCatalog.ToCompactProfile(CpuidTextReader.ReadFile(parse.GetValue(dump)!), n, d);
            if (path is null)
            {
                ctx.Out.Write(text); // the profile itself is the output, byte for byte
                return 0;
            }
            OutputFile.WriteText("--out", path, text);
            ctx.Out.WriteLine($"wrote {path}");
            return 0;
        });
        var cmd = new Command("catalog", "Maintain the built-in CPU catalog") { Hidden = true };
        cmd.Add(import);
        return cmd;
    }

    private static string Name(string n) =>
        n.Length is > 0 and <= 64 && n.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') ? n
        : throw new UserErrorException($"--name: '{n}' must be 1 to 64 lower-case letters, digits and '-'");

    private static string Description(string d) => !d.Any(char.IsControl) ? d
        : throw new UserErrorException("--description: must be one line without control characters (no newline or tab)");

    /// <summary>NAME.cpuid in <paramref name="dir"/>, checked before the dump is read (<see cref="OutputFile.Check"/>).</summary>
    private static string Target(string dir, string name)
    {
        if (!Directory.Exists(dir))
            throw new UserErrorException($"--out: directory '{dir}' does not exist");
        string path = Path.Combine(dir, name + ".cpuid");
        OutputFile.Check("--out", path);
        return path;
    }
}
