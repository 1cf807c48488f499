using Spectre.Console;
using XsaveLab.Kvm.Image;

namespace XsaveLab.Cli.Rendering;

public sealed record ImageVerdictJson(int? Tid, int Length, bool Accepted, string Outcome, string Rule, string? Offset, string Path);

/// <summary>The document of <c>image validate --format json</c>: the consumer, CPU and kernel asked, whether every
/// image is accepted and one verdict per image (a core has one per thread); <c>offset</c> is the byte that breaks
/// the rule, null when no byte is to blame.</summary>
public sealed record ImageValidateJson(string File, string For, string Cpu, string CpuOrigin, string Kernel, bool Accepted, List<ImageVerdictJson> Images);

/// <summary><c>image validate</c>: the verdict, the rule and byte that decided, and the code path asked.</summary>
public sealed class ImageValidateRenderer(CpuSelection cpu) : IRenderer<ImageValidationReport>
{
    public object ToJson(ImageValidationReport r)
    {
        var first = r.Images[0].Verdict;
        return new ImageValidateJson(r.Source, ImageConsumers.Name(first.Consumer), first.Cpu, cpu.Origin, first.Kernel, r.Accepted,
            [.. r.Images.Select(i => new ImageVerdictJson(i.Tid, i.Verdict.Length, i.Verdict.Accepted, i.Verdict.Outcome, i.Verdict.Rule,
                i.Verdict.Offset is int o ? Json.Hex((ulong)o) : null, i.Verdict.Path))]);
    }

    public void RenderText(IAnsiConsole console, ImageValidationReport r)
    {
        var first = r.Images[0].Verdict;
        console.WriteLine($"file      {r.Source}{(r.Core ? $" (core, {r.Images.Count} thread(s))" : $" ({Numbers.Bytes(first.Length)})")}");
        console.WriteLine($"for       {ImageConsumers.Name(first.Consumer)} on {cpu.Origin}, kernel {first.Kernel}");
        foreach (var (tid, v) in r.Images)
        {
            console.WriteLine();
            if (tid is int t)
                console.WriteLine($"thread {t} ({Numbers.Bytes(v.Length)})");
            console.WriteLine($"verdict   {(v.Accepted ? "accepted" : "rejected")}: {v.Outcome}");
            console.WriteLine($"rule      {v.Rule}");
            if (v.Offset is int o)
                console.WriteLine($"byte      0x{o:x} ({o})");
            console.WriteLine($"path      {v.Path}");
        }
    }

    public int ExitCode(ImageValidationReport r) => r.Accepted ? 0 : 1;
}
