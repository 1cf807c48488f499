using Spectre.Console;
using XsaveLab.Kernel.Image;

namespace XsaveLab.Cli.Rendering;

public sealed record ImageLayoutJson(string Origin, string? Cpu, string Format, int Size, List<string> Candidates);

public sealed record ImageComponentJson(int Nr, string Name, int Offset, int Size, bool InUse);

public sealed record FpxSwBytesJson(string Magic1, int ExtendedSize, string Xfeatures, int XstateSize);

public sealed record ImageThreadJson(int? Tid, string XstateBv, string XcompBv, Dictionary<string, string> Registers, List<ImageComponentJson> Components);

/// <summary>The document of <c>image decode --format json</c>; register values are one hex number of the full
/// width, most significant digit first.</summary>
public sealed record ImageDecodeJson(string Kind, ImageLayoutJson Layout, string XstateBv, string XcompBv, FpxSwBytesJson? FpxSwBytes,
    List<ImageThreadJson> Threads);

/// <summary><c>image decode</c>: the layout, then per thread the components and every register.</summary>
public sealed class ImageDecodeRenderer : IRenderer<XsaveImageFile>
{
    /// <summary>Hex digits per text line of a wide register (ZMM, TMM): keeps lines under 80 columns.</summary>
    private const int DigitsPerLine = 64;

    public IEnumerable<string> Warnings(XsaveImageFile f) => f.Warnings;

    public object ToJson(XsaveImageFile f)
    {
        var first = f.Threads[0];
        return new ImageDecodeJson(ImageKinds.Name(f.Kind), Layout(f), Json.Hex(first.XstateBv), Json.Hex(first.XcompBv),
            first.SwBytes is { } sw ? new FpxSwBytesJson(Json.Hex(sw.Magic1), (int)sw.ExtendedSize, Json.Hex(sw.Xfeatures), (int)sw.XstateSize) : null,
            [.. f.Threads.Select(Thread)]);
    }

    internal static ImageLayoutJson Layout(XsaveImageFile f) =>
        new(XsaveImageFile.LayoutOriginName(f.Layout.Origin), f.Layout.Cpu, f.Layout.Compacted ? "compacted" : "standard", f.Layout.Size, [.. f.Candidates]);

    private static ImageThreadJson Thread(XsaveImage t) =>
        new(t.Tid, Json.Hex(t.XstateBv), Json.Hex(t.XcompBv),
            t.Registers.ToDictionary(r => r.Name, r => t.ReadRegisterHex(r.Name)),
            [.. t.Layout.Components.Select(c => new ImageComponentJson(c.Number, c.Info.ShortName, c.Offset, c.Size, t.IsInUse(c.Number)))]);

    public void RenderText(IAnsiConsole console, XsaveImageFile f)
    {
        console.WriteLine($"file    {f.Source} ({ImageKinds.Name(f.Kind)}{(f.Kind == ImageKind.Core ? $", {f.Threads.Count} thread(s)" : "")})");
        console.WriteLine($"layout  {LayoutLine(f)}");
        if (f.Candidates.Count > 1)
            console.WriteLine($"        fits {string.Join(", ", f.Candidates)}");
        foreach (var t in f.Threads)
        {
            console.WriteLine();
            if (t.Tid is int tid)
                console.WriteLine($"thread {tid}");
            console.WriteLine($"XSTATE_BV 0x{t.XstateBv:x} ({XFeatureTable.Describe(t.XstateBv)})   XCOMP_BV 0x{t.XcompBv:x}");
            if (t.SwBytes is { } sw)
                console.WriteLine($"fpx_sw_bytes magic1 0x{sw.Magic1:x} extended_size {Numbers.Int(sw.ExtendedSize)} xfeatures 0x{sw.Xfeatures:x} xstate_size {Numbers.Int(sw.XstateSize)}");
            var regs = t.Registers.ToList();
            foreach (var c in t.Layout.Components)
            {
                console.WriteLine($"[{c.Number}] {c.Info.ShortName} at {Numbers.Int(c.Offset)}, {Numbers.Bytes(c.Size)}: {(t.IsInUse(c.Number) ? "in use" : "initial")}");
                // A register is listed under the component of its last (highest) part: ymm under AVX, zmm0-15 under ZMM_Hi256.
                foreach (var r in regs.Where(r => r.Parts[^1].Component == c.Number))
                    WriteValue(console, r.Name, t.ReadRegisterHex(r.Name));
            }
        }
    }

    internal static string LayoutLine(XsaveImageFile f) =>
        $"{(f.Layout.Compacted ? "compacted" : "standard")}, {Numbers.Bytes(f.Layout.Size)}, from " + f.Layout.Origin switch
        {
            LayoutOrigin.Note => "the NT_X86_XSAVE_LAYOUT note",
            LayoutOrigin.Cpu => $"CPU {f.Layout.Cpu}",
            LayoutOrigin.XcompBv => $"XCOMP_BV on {f.Layout.Cpu}",
            _ => $"the size on {f.Layout.Cpu}",
        };

    /// <summary>One register: name and value, a wide value continued on lines of <see cref="DigitsPerLine"/> digits.</summary>
    internal static void WriteValue(IAnsiConsole console, string name, string hex)
    {
        if (!hex.StartsWith("0x", StringComparison.Ordinal))
        {
            console.WriteLine($"  {name,-10} {hex}");
            return;
        }
        string digits = hex[2..];
        int head = digits.Length % DigitsPerLine == 0 ? DigitsPerLine : digits.Length % DigitsPerLine;
        console.WriteLine($"  {name,-10} 0x{digits[..Math.Min(head, digits.Length)]}");
        for (int at = head; at < digits.Length; at += DigitsPerLine)
            console.WriteLine($"  {"",-10}   {digits.Substring(at, DigitsPerLine)}");
    }
}
