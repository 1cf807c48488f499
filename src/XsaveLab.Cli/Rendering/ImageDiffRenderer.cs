using Spectre.Console;
using XsaveLab.Kernel.Image;

namespace XsaveLab.Cli.Rendering;

public sealed record ImageDiffFileJson(string File, string Kind, ImageLayoutJson Layout, int Threads);

public sealed record RegisterDifferenceJson(int? TidA, int? TidB, string Register, string? A, string? B);

public sealed record ImageDiffJson(ImageDiffFileJson A, ImageDiffFileJson B, bool Same, List<RegisterDifferenceJson> Differences);

/// <summary><c>image diff</c>: each register that differs, with both values (<c>-</c>: no place in that image).</summary>
public sealed class ImageDiffRenderer : IRenderer<ImageDiffResult>
{
    public IEnumerable<string> Warnings(ImageDiffResult r)
    {
        foreach (var w in r.A.Warnings.Concat(r.B.Warnings))
            yield return w;
        if (r.A.Threads.Count != r.B.Threads.Count)
            yield return $"{r.A.Source} has {r.A.Threads.Count} thread(s), {r.B.Source} {r.B.Threads.Count}: compared the first {r.Pairs.Count} in order";
    }

    public int ExitCode(ImageDiffResult r) => r.Pairs.Any(p => p.Differences.Count > 0) ? 1 : 0;

    public object ToJson(ImageDiffResult r) =>
        new ImageDiffJson(File(r.A), File(r.B), ExitCode(r) == 0,
            [.. r.Pairs.SelectMany(p => p.Differences.Select(d => new RegisterDifferenceJson(p.A.Tid, p.B.Tid, d.Register, d.A, d.B)))]);

    private static ImageDiffFileJson File(XsaveImageFile f) => new(f.Source, ImageKinds.Name(f.Kind), ImageDecodeRenderer.Layout(f), f.Threads.Count);

    public void RenderText(IAnsiConsole console, ImageDiffResult r)
    {
        console.WriteLine($"a  {r.A.Source} ({ImageKinds.Name(r.A.Kind)}): {ImageDecodeRenderer.LayoutLine(r.A)}");
        console.WriteLine($"b  {r.B.Source} ({ImageKinds.Name(r.B.Kind)}): {ImageDecodeRenderer.LayoutLine(r.B)}");
        foreach (var (a, b, diffs) in r.Pairs)
        {
            if (a.Tid is not null || b.Tid is not null)
                console.WriteLine($"thread {a.Tid?.ToString(CultureInfo.InvariantCulture) ?? "-"} / {b.Tid?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
            if (diffs.Count == 0)
                console.WriteLine("  no register differs");
            foreach (var d in diffs)
            {
                ImageDecodeRenderer.WriteValue(console, $"{d.Register} a", d.A ?? "- (no place)");
                ImageDecodeRenderer.WriteValue(console, $"{d.Register} b", d.B ?? "- (no place)");
            }
        }
    }
}
