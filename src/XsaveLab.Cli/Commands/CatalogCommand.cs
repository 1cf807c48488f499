using System.CommandLine;
using XsaveLab.Arch.Catalog;
using XsaveLab.Arch.Cpuid;
using XsaveLab.Cli.Cli;

namespace XsaveLab.Cli.Commands;

/// <summary>Hidden maintenance command: <c>catalog import DUMP --name N --description D [--out DIR]</c> turns a
/// CPUID dump into a compact built-in profile (src/XsaveLab.Arch/Profiles/N.cpuid), so catalog files are
/// always generated from dumps, never typed.</summary>
public static class CatalogCommand
{
    public static Command Create(CliContext ctx)
    {
        var dump = new Argument<string>("DUMP") { Description = "CPUID dump (InstLatx64 or 'cpuid -r')" };
        var name = new Option<string>("--name") { Description = "Short name, e.g. spr", Required = true };
        var description = new Option<string>("--description") { Description = "One line about the CPU", Required = true };
        var outDir = new Option<string>("--out") { Description = "Directory to write NAME.cpuid into (default: stdout)", HelpName = "DIR" };
        var import = new Command("import", "Write the compact profile of a dump");
        import.Add(dump);
        import.Add(name);
        import.Add(description);
        import.Add(outDir);
        import.SetAction(parse =>
        {
            string n = parse.GetValue(name)!;
            if (n.Length == 0 || n.Length > 64 || n.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
                throw new UserErrorException($"--name: '{n}' must be 1 to 64 lower-case letters, digits and '-'");
            string d = parse.GetValue(description)!;
            if (d.Any(char.IsControl))
                throw new UserErrorException("--description: must be one line without control characters (no newline or tab)");
            // The reader applies the same limits and leaf 0xD validation as every other command's --cpuid.
            var profile = CpuidTextReader.ReadFile(parse.GetValue(dump)!);
            string text = CpuCatalog.ToCompactProfile(profile, n, d);
            if (parse.GetValue(outDir) is { } dir)
            {
                if (!Directory.Exists(dir))
                    throw new UserErrorException($"--out: directory '{dir}' does not exist");
                string path = Path.Combine(dir, n + ".cpuid");
                try
                {
                    File.WriteAllText(path, text);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
                {
                    throw new UserErrorException($"--out: cannot write '{path}': {e.Message}");
                }
                ctx.Out.WriteLine($"wrote {path}");
            }
            else
                ctx.Out.Write(text);
            return 0;
        });
        var cmd = new Command("catalog", "Maintain the built-in CPU catalog") { Hidden = true };
        cmd.Add(import);
        return cmd;
    }
}
