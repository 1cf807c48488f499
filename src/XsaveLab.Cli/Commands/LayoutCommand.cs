using System.CommandLine;
using Spectre.Console;
using XsaveLab.Arch.Layout;
using XsaveLab.Arch.Sanity;
using XsaveLab.Cli.Cli;
using XsaveLab.Cli.Rendering;

namespace XsaveLab.Cli.Commands;

/// <summary><c>layout</c>: where every component sits, standard and compacted, and the area sizes.</summary>
public static class LayoutCommand
{
    public static Command Create(CliContext ctx)
    {
        var cpu = new CpuSourceOptions();
        var format = FormatOption.Create();
        var xcr0 = new Option<string>("--xcr0")
        {
            Description = "XCR0 to lay out, hex (default: every user component the CPU supports)",
            HelpName = "HEX",
        };
        var xss = new Option<string>("--xss")
        {
            Description = "IA32_XSS to lay out, hex (default: every supervisor component the CPU supports)",
            HelpName = "HEX",
        };
        var cmd = new Command("layout", "Offsets and sizes of every XSAVE component: standard and compacted form, for XCR0 and XCR0|XSS");
        cpu.AddTo(cmd);
        cmd.Add(xcr0);
        cmd.Add(xss);
        cmd.Add(format);
        cmd.SetAction(parse =>
        {
            ulong? x = HexMask.Parse(parse.GetValue(xcr0), "--xcr0");
            ulong? s = HexMask.Parse(parse.GetValue(xss), "--xss");
            var sel = cpu.Resolve(parse);
            if (x is ulong xv && LayoutView.CheckXcr0(sel.Profile, xv) is { } e1)
                throw new UserErrorException($"--xcr0: {e1}");
            if (s is ulong sv && LayoutView.CheckXss(sel.Profile, sv) is { } e2)
                throw new UserErrorException($"--xss: {e2}");
            var view = LayoutView.Create(sel.Profile, x, s);
            // The CPU's own oddities (e.g. Zen 2's 64-byte PKRU) matter to anyone reading its layout.
            var cpuWarnings = ProfileSanity.Check(sel.Profile)
                .Where(f => f.Severity >= FindingSeverity.Warning)
                .Select(f => $"{f.Code}: {f.Message}")
                .ToList();
            if (FormatOption.Get(parse, format) == OutputFormat.Json)
            {
                var json = LayoutRendering.ToJson(view);
                Json.Write(ctx.Out, json with { Warnings = [.. json.Warnings, .. cpuWarnings] });
                return 0;
            }
            var console = ctx.CreateConsole();
            console.WriteLine(string.IsNullOrEmpty(sel.Profile.Brand) ? $"CPU  {sel.Profile.Name}" : $"CPU  {sel.Profile.Name}: {sel.Profile.Brand}");
            console.WriteLine($"from {sel.Origin}");
            LayoutRendering.Render(console, view);
            foreach (var w in cpuWarnings)
                console.WriteLine($"warning: {w}");
            return 0;
        });
        return cmd;
    }

    /// <summary>One line saying which CPU and from where (used by other commands' headers).</summary>
    internal static string Describe(CpuSelection sel) =>
        string.IsNullOrEmpty(sel.Profile.Brand) ? sel.Origin : $"{sel.Profile.Brand}; {sel.Origin}";
}
