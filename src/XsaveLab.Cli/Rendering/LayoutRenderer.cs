using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

/// <summary><c>layout</c>: the CPU, where it came from, its layout and the CPU's own warnings.</summary>
public sealed class LayoutRenderer(CpuSelection selection) : IRenderer<LayoutReport>
{
    public object ToJson(LayoutReport r)
    {
        var json = LayoutRendering.ToJson(r.View);
        return json with { Warnings = [.. json.Warnings, .. r.CpuWarnings.Select(Warning)] };
    }

    public void RenderText(IAnsiConsole console, LayoutReport r)
    {
        console.WriteLine(string.IsNullOrEmpty(r.Cpu.Brand) ? $"CPU  {r.Cpu.Name}" : $"CPU  {r.Cpu.Name}: {r.Cpu.Brand}");
        console.WriteLine($"from {selection.Origin}");
        LayoutRendering.Render(console, r.View);
        foreach (var w in r.CpuWarnings)
            console.WriteLine($"warning: {Warning(w)}");
    }

    private static string Warning(Arch.Sanity.ProfileFinding f) => $"{f.Code}: {f.Message}";

    /// <summary>One line saying which CPU and from where (used by other commands' headers).</summary>
    internal static string Describe(CpuSelection sel) =>
        string.IsNullOrEmpty(sel.Profile.Brand) ? sel.Origin : $"{sel.Profile.Brand}; {sel.Origin}";
}
