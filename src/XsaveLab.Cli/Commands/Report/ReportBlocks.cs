using Spectre.Console;
namespace XsaveLab.Cli.Commands.Report;

/// <summary>Text output of <see cref="ReportBlock"/>s (the HTML side is <see cref="ReportHtml"/>).</summary>
public static class ReportBlocks
{
    /// <summary>Width of the key column of a <see cref="KeyValueBlock"/>.</summary>
    private const int KeyWidth = 16;

    public static void WriteText(IEnumerable<ReportBlock> blocks, IAnsiConsole console)
    {
        foreach (var b in blocks)
            switch (b)
            {
                case TextBlock { Wrap: true } t:
                    console.WriteWrapped(t.Text);
                    break;
                case TextBlock t:
                    console.WriteLine(t.Text);
                    break;
                case KeyValueBlock kv:
                    foreach (var (k, v) in kv.Rows)
                        console.WriteLine($"{k.PadRight(KeyWidth)}{v}");
                    break;
                case TableBlock t:
                    t.Table.Write(console);
                    break;
                case ByteMapBlock:
                    break;
                case ExperimentBlock e:
                    ExperimentRenderer.Render(e.Result, console, sweep: true);
                    break;
                default:
                    throw new ArgumentException($"no text form for {b.GetType().Name}", nameof(blocks));
            }
    }
}
