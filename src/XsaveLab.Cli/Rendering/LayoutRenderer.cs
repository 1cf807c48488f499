using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

/// <summary><c>layout</c>: the CPU, where it came from, its layout and the CPU's own findings, each with the severity
/// <see cref="ProfileFinding"/> gives it (the report's sanity section shows the same).</summary>
public sealed class LayoutRenderer(CpuSelection selection) : IRenderer<LayoutReport>
{
    public object ToJson(LayoutReport r)
    {
        return LayoutRendering.ToJson(r.View) with { Findings = r.CpuFindings };
    }

    public void RenderText(IAnsiConsole console, LayoutReport r)
    {
        console.WriteLine(string.IsNullOrEmpty(r.Cpu.Brand) ? $"CPU  {r.Cpu.Name}" : $"CPU  {r.Cpu.Name}: {r.Cpu.Brand}");
        console.WriteLine($"from {selection.Origin}");
        LayoutRendering.Render(console, r.View);
        foreach (var f in r.CpuFindings)
            console.WriteLine(f.ToString());
    }

    /// <summary>One line saying which CPU and from where (used by other commands' headers).</summary>
    internal static string Describe(CpuSelection sel) =>
        string.IsNullOrEmpty(sel.Profile.Brand) ? sel.Origin : $"{sel.Profile.Brand}; {sel.Origin}";
}
