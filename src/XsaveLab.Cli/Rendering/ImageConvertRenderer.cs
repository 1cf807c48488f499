using Spectre.Console;
using XsaveLab.Kernel.Image;

namespace XsaveLab.Cli.Rendering;

public sealed record ComponentConversionJson(int Nr, string Name, string Fate, int? From, int? To, bool InUse);

public sealed record ImageConvertJson(string Source, string Kind, ImageLayoutJson From, string Output, string OutputKind, string ToCpu,
    string ToFormat, int Size, string XstateBv, string XcompBv, List<ComponentConversionJson> Components);

/// <summary><c>image convert</c>: per component whether it was moved (and where), dropped or initialised.</summary>
public sealed class ImageConvertRenderer : IRenderer<ImageConvertResult>
{
    public IEnumerable<string> Warnings(ImageConvertResult r)
    {
        foreach (var w in r.Source.Warnings)
            yield return w;
        if (r.Source.Threads.Count > 1 && r.Thread == r.Source.Threads[0])
            yield return $"{r.Source.Source} has {r.Source.Threads.Count} threads: converted the first ({r.Thread.Tid}); --thread chooses another";
        foreach (var c in r.Conversion.Components.Where(c => c.Fate == ComponentFate.Dropped && c.InUse))
            yield return $"component {c.Number} ({XFeatureTable.Get(c.Number).ShortName}) was in use and has no place on {r.Target.Name}: its registers are not in the output";
    }

    public object ToJson(ImageConvertResult r)
    {
        var img = r.Conversion.Image;
        return new ImageConvertJson(r.Source.Source, ImageKinds.Name(r.Source.Kind), ImageDecodeRenderer.Layout(r.Source), r.Output,
            ImageKinds.Name(img.Kind), r.Target.Name, img.Layout.Compacted ? "compacted" : "standard", img.Bytes.Length,
            Json.Hex(img.XstateBv), Json.Hex(img.XcompBv),
            [.. r.Conversion.Components.Select(c => new ComponentConversionJson(c.Number, XFeatureTable.Get(c.Number).ShortName, Fate(c.Fate), c.From, c.To, c.InUse))]);
    }

    public void RenderText(IAnsiConsole console, ImageConvertResult r)
    {
        var img = r.Conversion.Image;
        console.WriteLine($"from    {r.Source.Source} ({ImageKinds.Name(r.Source.Kind)}): {ImageDecodeRenderer.LayoutLine(r.Source)}");
        console.WriteLine($"to      {r.Output} ({ImageKinds.Name(img.Kind)}): {(img.Layout.Compacted ? "compacted" : "standard")}, {Numbers.Bytes(img.Bytes.Length)}, CPU {r.Target.Name}");
        console.WriteLine($"        XSTATE_BV 0x{img.XstateBv:x}  XCOMP_BV 0x{img.XcompBv:x}");
        var t = new Table().Border(TableBorder.Simple);
        t.AddColumn("nr");
        t.AddColumn("component");
        t.AddColumn("fate");
        t.AddColumn(new TableColumn("from").RightAligned());
        t.AddColumn(new TableColumn("to").RightAligned());
        foreach (var c in r.Conversion.Components)
            t.AddRow(c.Number.ToString(CultureInfo.InvariantCulture), Markup.Escape(XFeatureTable.Get(c.Number).ShortName), Fate(c.Fate) + (c.Fate == ComponentFate.Dropped && c.InUse ? " (was in use)" : ""),
                c.From?.ToString(CultureInfo.InvariantCulture) ?? "-", c.To?.ToString(CultureInfo.InvariantCulture) ?? "-");
        console.Write(t);
    }

    private static string Fate(ComponentFate f) => f.ToString().ToLowerInvariant();
}
